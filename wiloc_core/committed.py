"""Committed full-profile runs, and which run a chapter's prose describes.

A chapter built with the quick profile is a pipeline check; where a full-profile run
of the same chapter is committed under ``results/<stem>/`` (``wiloc results commit``),
that run is what the page's prose, figures and verdicts should describe.

- :func:`load` reads a committed run: its summary values, tables (CSV), report
  records and provenance (:class:`CommittedRun`); :meth:`CommittedRun.caption` says
  what it is, built from its provenance only.
- :class:`Story` decides, once per page, which run the prose describes (the
  *authoritative* run) and glues the prose numbers so that quick and full numbers are
  never mixed silently:

  * a plain key (``t2_improved``) always holds the **authoritative** run's value: the
    committed run's where one exists and this build is not itself an unmodified full
    (or paper) run, this build's otherwise;
  * the same key with the prefix ``build_`` (``build_t2_improved``) always holds
    **this build's** value, for the section that shows the build as a pipeline check;
  * a key the authoritative run lacks is not glued without the prefix, so a page that
    quotes it fails to build instead of quoting the other run's number;
  * no key is glued twice (:class:`Story` raises), and the build's values go to its
    ``summary.json`` under their plain keys (the summary describes its own run).

Example
-------
>>> story = Story(res, load("10-ctf-transfer"))          # doctest: +SKIP
>>> story.glue(build_values, committed_values)            # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from wiloc_core import paths
from wiloc_core.errors import DataFormatError
from wiloc_core.verdicts import JUDGED_PROFILES

__all__ = ["BUILD_PREFIX", "CommittedRun", "load", "Story", "claim_statuses"]

#: Prefix of the glue keys that hold this build's own values.
BUILD_PREFIX = "build_"


def _read_json(path: Path) -> dict | list:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataFormatError(path, "(whole file)", "valid JSON", str(error)) from None


@dataclass
class CommittedRun:
    """One committed run of a chapter: ``results/<stem>/``.

    Attributes
    ----------
    stem : str
        Notebook stem.
    folder : Path
    summary : dict
        ``summary.json``: profile, seed, data kind, parameters, values.
    provenance : dict
        ``provenance.json`` (empty when missing).
    """

    stem: str
    folder: Path
    summary: dict
    provenance: dict = field(default_factory=dict)

    @property
    def profile(self) -> str:
        """The run's profile label (``"custom"`` where it had overrides)."""
        return str(self.provenance.get("profile", self.summary.get("profile", "?")))

    @property
    def parameters(self) -> dict:
        return dict(self.summary.get("parameters", {}))

    @property
    def seeds(self) -> list[int]:
        """Seeds the run averaged: ``seed, seed + 1, ...`` (``n_seeds`` of its parameters)."""
        seed = int(self.summary.get("seed", 0))
        return [seed + i for i in range(int(self.parameters.get("n_seeds", 1)))]

    def values(self, keys=None) -> dict:
        """Summary values, key -> ``(value, unit)`` (only ``keys`` when given; missing keys
        are left out)."""
        stored = self.summary.get("values", {})
        keys = stored if keys is None else [k for k in keys if k in stored]
        return {k: (stored[k]["value"], stored[k].get("unit", "")) for k in keys}

    def has_table(self, name: str) -> bool:
        return (self.folder / f"{name}.csv").is_file()

    def table(self, name: str):
        """A committed table as a pandas DataFrame (``<name>.csv``)."""
        import pandas as pd

        return pd.read_csv(self._existing(name, ".csv", "table"))

    def has_figure(self, name: str) -> bool:
        return (self.folder / f"{name}.png").is_file()

    def image(self, name: str):
        """A committed figure (``<name>.png``) as an IPython Image, embedded in the page."""
        from IPython.display import Image

        return Image(filename=str(self._existing(name, ".png", "figure")))

    def _existing(self, name: str, suffix: str, what: str) -> Path:
        """The path of a committed file, or a clear error naming it."""
        path = self.folder / f"{name}{suffix}"
        if not path.is_file():
            raise DataFormatError(path, "(file)", f"a committed {what} '{name}' of {self.stem}",
                                  "no such file")
        return path

    def records(self) -> list[dict]:
        """The run's report records, judged (:func:`wiloc_core.report.evaluate`)."""
        from wiloc_core import report

        path = self.folder / "report.json"
        if not path.is_file():
            return []
        items = _read_json(path)
        extra = {"origin": "committed", "commit": self.provenance.get("commit", ""),
                 "date": self.provenance.get("date", "")}
        return report.evaluate([{**item, **extra} for item in items])

    def previous_records(self) -> list[dict]:
        """The judged records of the committed run this one replaced (``[]`` when none was
        kept: see ``wiloc results commit``)."""
        from wiloc_core import report

        path = self.folder / "previous_report.json"
        if not path.is_file():
            return []
        return report.evaluate([{**item, "origin": "committed"} for item in _read_json(path)])

    @property
    def previous_provenance(self) -> dict:
        """Provenance of the committed run this one replaced (empty when none was kept)."""
        path = self.folder / "previous_provenance.json"
        return dict(_read_json(path)) if path.is_file() else {}

    @property
    def simulator_version(self) -> int | None:
        """The simulator version the run used: from its provenance, or for a run made before
        versions were recorded, the newest version whose introducing commit is an ancestor
        of the run's commit (1 when none is; None when git cannot tell)."""
        from wiloc_core.sim import SIMULATOR_VERSIONS

        recorded = self.provenance.get("simulator_version")
        if recorded is not None:
            return int(recorded)
        commit = str(self.provenance.get("commit", ""))
        if not commit:
            return None
        version = 1
        for number, (introduced, _) in sorted(SIMULATOR_VERSIONS.items()):
            found = _is_ancestor(introduced, commit)
            if found is None:
                return None
            if found:
                version = number
        return version

    def simulator_note(self) -> str:
        """A sentence when the run's simulated data came from an older simulator, else ""."""
        from wiloc_core.sim import SIMULATOR_VERSION, SIMULATOR_VERSIONS

        used = self.simulator_version
        if self.summary.get("data_kind") != "simulated" or used is None or used >= SIMULATOR_VERSION:
            return ""
        changes = "; ".join(SIMULATOR_VERSIONS[v][1] for v in sorted(SIMULATOR_VERSIONS) if v > used)
        return (f" **It was made with simulator version {used}; this code's simulator is version "
                f"{SIMULATOR_VERSION} ({changes}), so its numbers describe the older simulator "
                "until the run is regenerated.**")

    def caption(self) -> str:
        """What this run is, from its provenance alone (never typed by a page)."""
        p = self.provenance
        commit = f"`{str(p.get('commit', 'unknown'))[:10]}`" + (" with uncommitted changes"
                                                                if p.get("dirty") else "")
        seconds = p.get("duration_s")
        took = "" if seconds is None else (f", {float(seconds) / 60:.0f} min" if float(seconds) >= 90
                                           else f", {float(seconds):.0f} s")
        text = (f"Committed {self.profile}-profile run, seeds {self.seeds}, "
                f"{self.summary.get('data_kind', '?')} data: commit {commit}, "
                f"{p.get('date', 'date unknown')}, {p.get('machine', 'machine unknown')}{took}.")
        overrides = p.get("overrides") or {}
        if overrides:
            text += " Overrides: " + "; ".join(
                f"`{name}` {v.get('preset')!r} → {v.get('run')!r}" if isinstance(v, dict) else f"`{name}`"
                for name, v in sorted(overrides.items())) + "."
        if p.get("devices"):
            text += " Trained on: " + ", ".join(p["devices"]) + "."
        packages = [f"{name} {version}" for name, version in (p.get("packages") or {}).items()
                    if version != "absent"]
        if packages:
            text += " Packages: " + ", ".join(packages) + "."
        text += self.simulator_note()
        again = p.get("reevaluated")
        if again:
            text += (f" Its report records were re-evaluated on {again.get('date', '?')} "
                     f"(commit `{str(again.get('commit', '?'))[:10]}`) from its committed "
                     "tables; no network was retrained.")
        return text


def load(stem: str, root: Path | None = None) -> CommittedRun | None:
    """The committed run of ``stem`` under ``root`` (default ``results/``), or None.

    A folder without ``summary.json`` counts as no committed run.
    """
    folder = Path(root or paths.committed_results_dir()) / stem
    if not (folder / "summary.json").is_file():
        return None
    summary = _read_json(folder / "summary.json")
    provenance_file = folder / "provenance.json"
    provenance = _read_json(provenance_file) if provenance_file.is_file() else {}
    return CommittedRun(stem, folder, summary, provenance)


def _pair(value):
    """``(value, unit)`` from a value or a ``(value, unit)`` pair."""
    if isinstance(value, tuple) and len(value) == 2:
        return value
    return value, ""


class Story:
    """Which run a page's prose describes, and the one place that glues its numbers.

    Parameters
    ----------
    res : wiloc_core.results.ResultSet
        This build's results (its ``profile`` says whether it is itself judged).
    committed : CommittedRun or None
        The chapter's committed run (:func:`load`).
    glue : callable, optional
        ``glue(name, value)``; :func:`wiloc_core.results.glue` by default (tests pass
        their own).

    Attributes
    ----------
    uses_committed : bool
        The prose describes the committed run: one exists and this build is not an
        unmodified full or paper run.
    origin : dict
        Glue key -> ``"committed"`` or ``"build"``, for every key glued.
    """

    def __init__(self, res, committed: CommittedRun | None, *, glue=None):
        if glue is None:
            from wiloc_core.results import glue
        self.res = res
        self.committed = committed
        self.uses_committed = committed is not None and res.profile not in JUDGED_PROFILES
        self.origin: dict[str, str] = {}
        self._glue = glue

    @property
    def label(self) -> str:
        """A few words naming the authoritative run, for figure titles and captions."""
        if self.uses_committed:
            n = len(self.committed.seeds)
            return f"committed {self.committed.profile} run, {n} seed{'s' if n != 1 else ''}"
        return f"this build's {self.res.profile} run"

    def caption(self) -> str:
        """Markdown: which run the prose describes, and what this build's run is."""
        build = (f"This build ran the **{self.res.profile}** profile"
                 + (f" (base profile {self.res.base_profile}, overrides "
                    f"{sorted(self.res.overrides)})" if self.res.overrides else ""))
        if self.uses_committed:
            return (f"**The prose, figures and verdicts of this page describe the committed "
                    f"run.** {self.committed.caption()} {build}; its numbers appear only in "
                    f"the section *This build's run*, as a check that the pipeline still runs.")
        if self.committed is None:
            return f"{build}; no full-profile run of this chapter is committed, so the prose describes this build."
        return f"{build}, a run the report judges, so the prose describes it (not the committed run)."

    def table(self, name: str, build_frame):
        """The authoritative run's version of a table (``build_frame`` when that is this build)."""
        return self.committed.table(name) if self.uses_committed else build_frame

    def show_figure(self, name: str, fig, *, display=None) -> None:
        """Save this build's figure and show the authoritative run's version of it.

        The build's ``fig`` is saved (:meth:`~wiloc_core.results.ResultSet.figure`) and
        closed. Where the committed run is authoritative its ``<name>.png`` is shown with a
        caption naming the run (the build's figure belongs in the section *This build's
        run*, :meth:`build_image`); otherwise ``fig`` itself is shown. ``display`` defaults
        to IPython's (tests pass their own).
        """
        import matplotlib.pyplot as plt

        if display is None:
            from IPython.display import display
        self.res.figure(name, fig)
        plt.close(fig)
        if not self.uses_committed:
            display(fig)
            return
        from IPython.display import Markdown

        image = self.committed.image(name)
        display(image, Markdown(f"*Figure of the {self.label}* (`results/{self.committed.stem}/"
                                f"{name}.png`); this build's version is under *This build's run*."))

    def build_image(self, name: str):
        """This build's saved figure ``<name>.png`` as an IPython Image."""
        from IPython.display import Image

        return Image(filename=str(self.res.out_dir / f"{name}.png"))

    def glue_summary(self, build: dict) -> None:
        """:meth:`glue` with the committed run's values read from its ``summary.json``
        under the same keys (for values a committed run saved as they are; a key its
        summary lacks is left unglued, never filled from the build)."""
        keys = list(build)
        self.glue(build, self.committed.values(keys) if self.uses_committed else None)

    def _put(self, name: str, value, origin: str) -> None:
        if name in self.origin:
            raise ValueError(f"glue key {name!r} is glued twice (first from the "
                             f"{self.origin[name]} run)")
        self.origin[name] = origin
        self._glue(name, value)

    def glue(self, build: dict, committed: dict | None = None) -> None:
        """Record this build's values and glue the prose numbers (see the module notes).

        Parameters
        ----------
        build : dict
            key -> value or ``(value, unit)``, computed from this build's run; saved in
            its ``summary.json`` and glued as ``build_<key>`` (and as ``<key>`` when the
            build is authoritative).
        committed : dict, optional
            The same keys computed from the committed run (by the same code); glued as
            ``<key>`` when the committed run is authoritative.
        """
        for key, item in build.items():
            if key in self.res.values:
                raise ValueError(f"glue key {key!r} is already a value of this run")
            value, unit = _pair(item)
            self.res.value(key, value, unit=unit, glue=False)
            self._put(BUILD_PREFIX + key, self.res.values[key]["value"], "build")
        source, origin = ((committed or {}), "committed") if self.uses_committed else (build, "build")
        for key, item in source.items():
            self._put(key, _pair(item)[0], origin)


def _is_ancestor(ancestor: str, commit: str) -> bool | None:
    """Whether ``ancestor`` is ``commit`` or one of its ancestors in this repository's
    history; None when git (or either commit) is not available."""
    import subprocess

    from wiloc_core import paths

    try:
        done = subprocess.run(["git", "merge-base", "--is-ancestor", ancestor, commit],
                              cwd=paths.REPO_ROOT, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {0: True, 1: False}.get(done.returncode)


def _record_name(record: dict) -> str:
    if record.get("kind") == "claim":
        return f"claim {record['claim_id']}"
    return f"{record['item']} · {record['row']} · {record['column']}"


def verdict_moves(run: CommittedRun):
    """How the verdicts of ``run`` moved against the committed run it replaced.

    Returns
    -------
    pandas.DataFrame or None
        One row per record of either run (claims first): ``record``, ``status before``,
        ``status now``, ``ours before``, ``ours now`` (values only; claims have cells),
        ``moved`` (the status changed); None when no previous run was kept.
    """
    import pandas as pd

    before = {_record_name(r): r for r in run.previous_records()}
    if not before:
        return None
    now = {_record_name(r): r for r in run.records()}
    rows = []
    for name in sorted(before.keys() | now.keys(), key=lambda n: (not n.startswith("claim"), n)):
        old, new = before.get(name, {}), now.get(name, {})
        rows.append({"record": name, "status before": old.get("status", "(absent)"),
                     "status now": new.get("status", "(absent)"),
                     "ours before": old.get("ours"), "ours now": new.get("ours"),
                     "moved": old.get("status") != new.get("status")})
    return pd.DataFrame(rows)


def claim_statuses(records: list[dict]) -> dict[str, str]:
    """Glue-ready statuses of a run's judged claim records: ``status_<claim id>`` -> status.

    ``"000-table2-beats-conventional"`` gives the key
    ``status_000_table2_beats_conventional``; records must carry ``status``
    (:func:`wiloc_core.report.evaluate`).
    """
    return {"status_" + r["claim_id"].replace("-", "_"): r["status"]
            for r in records if r.get("kind") == "claim"}
