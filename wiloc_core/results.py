"""Results of one notebook run: tables, figures, key numbers and report records.

A notebook creates one :class:`ResultSet`, adds what it regenerated, and calls
:meth:`ResultSet.save`. Everything lands in ``build/results/<notebook-stem>/``:

- ``<table>.csv`` for every table, ``<figure>.png`` and ``.svg`` for every figure;
- ``summary.json``: key numbers with units, the profile, seed, data kind and parameters;
- ``report.json``: the records the reproduction report compares with the paper-values
  registry (one per regenerated paper value or checked claim);
- ``provenance.json``: commit, date, machine, duration and the run's timings
  (:meth:`ResultSet.timing`): what differs between two
  otherwise identical runs lives only here, so the other files are byte-identical for
  the same seed on the same machine.

Every file is written atomically.
"""

from __future__ import annotations

import io
import math
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from wiloc_core import atomic, paths
from wiloc_core.errors import ParameterError

DATA_KINDS = ("real", "simulated")
RECORD_KINDS = ("value", "claim")


def _plain(value):
    """A JSON-friendly version of a NumPy scalar or array."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class ResultSet:
    """Collects and saves the results of one notebook run.

    Parameters
    ----------
    stem : str
        Notebook stem, e.g. ``"00-fingerprint-datasets"``: the results folder's name.
    profile : {"quick", "full", "paper"}
        The profile the run started from.
    seed : int
    data_kind : {"real", "simulated"}
        The default data kind of this run's records; a record may override it.
    parameters : dict, optional
        The notebook's parameters, saved in ``summary.json``.
    out_dir : path, optional
        Defaults to ``build/results/<stem>``.
    overrides : dict, optional
        Settings that differ from the profile's preset, name -> ``{"preset", "run"}``
        (``settings(...)["overrides"]``, :func:`wiloc_core.profiles.settings`). Any
        override makes the run ``custom``: its records are labelled so, never judged,
        and ``wiloc results commit`` refuses it.
    """

    def __init__(self, stem, *, profile, seed, data_kind, parameters=None, out_dir=None,
                 overrides=None):
        if data_kind not in DATA_KINDS:
            raise ParameterError("data_kind", f"one of {DATA_KINDS}", data_kind)
        self.stem = stem
        self.base_profile = profile
        self.overrides = {k: {"preset": _plain(v["preset"]), "run": _plain(v["run"])}
                          for k, v in (overrides or {}).items()}
        self.profile = "custom" if self.overrides else profile
        self.seed = int(seed)
        self.data_kind = data_kind
        self.parameters = {k: _plain(v) for k, v in (parameters or {}).items()}
        self.out_dir = Path(out_dir) if out_dir is not None else paths.results_dir(stem)
        self.values: dict[str, dict] = {}
        self.records: list[dict] = []
        self.tables: list[str] = []
        self.figures: list[str] = []
        self.timings: dict[str, dict] = {}
        self.training_devices: list[str] = []
        self.run_sittings: list[dict] = []
        self._started = time.perf_counter()

    # -- adding results ---------------------------------------------------------------
    def table(self, name: str, frame, *, index: bool = False, float_format: str = "%.6g"):
        """Save a pandas DataFrame as ``<name>.csv`` (now, atomically); return the frame."""
        buffer = io.StringIO()
        frame.to_csv(buffer, index=index, float_format=float_format, lineterminator="\n")
        atomic.write_text(self.out_dir / f"{name}.csv", buffer.getvalue())
        if name not in self.tables:
            self.tables.append(name)
        return frame

    def figure(self, name: str, fig, *, glue: bool = False):
        """Save a Matplotlib figure as PNG and SVG (deterministic metadata); optionally glue it."""
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": f"wiloc-{name}"}):
            for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, metadata=metadata, dpi=110, bbox_inches="tight")
                atomic.write_bytes(self.out_dir / f"{name}.{fmt}", buffer.getvalue())
        if name not in self.figures:
            self.figures.append(name)
        if glue:
            _glue(name, fig)
        return fig

    def value(self, key: str, value, *, unit: str = "", glue: bool = True):
        """Record a key number for ``summary.json`` and glue it for use in the text."""
        value = _plain(value)
        self.values[key] = {"value": value, "unit": unit}
        if glue:
            _glue(key, value)
        return value

    def timing(self, key: str, value, *, unit: str = "s", glue: bool = True):
        """Record a wall-clock figure (or one derived from it) and glue it for the text.

        Timings differ between two otherwise identical runs, so they go to
        ``provenance.json`` (under ``timings``), never to ``summary.json`` or a table.
        """
        value = _plain(value)
        self.timings[key] = {"value": value, "unit": unit}
        if glue:
            _glue(key, value)
        return value

    def devices(self, devices) -> list[str]:
        """Record the devices the run's networks trained on (``describe_device`` strings).

        They go to ``provenance.json`` (under ``devices``): where a network trained says
        how a run was made, like the machine, and on a CPU it does not change a number.
        """
        self.training_devices = sorted({str(d) for d in devices})
        return self.training_devices

    def sittings(self, records: list[dict]) -> list[dict]:
        """Record the sittings a run's cached networks were computed in
        (:meth:`wiloc_core.experiment.Cache.sittings`). Wall-clock, so they go to
        ``provenance.json`` (under ``sittings``), never to a table."""
        self.run_sittings = _plain(list(records))
        return self.run_sittings

    def compare(self, paper: str, item: str, row: str, column: str, ours, *, unit: str | None = None,
                data_kind: str | None = None, effect=None, n_seeds: int | None = None,
                note: str = ""):
        """Record a regenerated value that the report sets beside the paper's.

        The paper's value is looked up in the registry by (paper, item, row, column)
        when the report is built, so the key must exist there.

        Parameters
        ----------
        ours : float
            Our value (a mean over seeds where there are several).
        effect : sequence of float, optional
            The qualitative effect this value stands for, one number per seed, signed so
            that a positive number points the paper's way (e.g. conventional minus
            proposed RMSE). A reversed effect is never "reproduced", and an effect must
            beat the seed-to-seed noise (:mod:`wiloc_core.verdicts`).
        n_seeds : int, optional
            How many seeds ``ours`` averages (defaults to ``len(effect)``).
        """
        from wiloc_core import paper_values

        entry = paper_values.paper_entry(paper, item, row, column)
        record = self._record("value", paper, data_kind, note)
        record.update(item=item, row=row, column=column, ours=_plain(float(ours)),
                      unit=unit if unit is not None else entry["unit"])
        if effect is not None:
            record["effect"] = _finite_list(effect, f"effect of {item} / {row} / {column}")
        if n_seeds is not None or effect is not None:
            record["n_seeds"] = int(n_seeds if n_seeds is not None else len(record["effect"]))
        self.records.append(record)
        return record

    def claim(self, claim_id: str, cells, *, evidence: str = "", data_kind: str | None = None):
        """Record the quantity of a registered claim; the report judges it.

        Parameters
        ----------
        claim_id : str
            A claim of :mod:`wiloc_core.claims` (``"000-table1-degrades"``).
        cells : dict or list of dict
            The quantity the claim's registry row names: ``{label: values}`` or
            ``[{"label", "values", "deterministic"}]``, one value per seed (one value and
            ``deterministic=True`` for a quantity without seed noise).
        evidence : str
            One line saying what was measured (shown in the report).
        """
        from wiloc_core import claims

        registered = claims.claim(claim_id)
        if isinstance(cells, dict):
            cells = [{"label": str(k), "values": v} for k, v in cells.items()]
        checked = []
        for cell in cells:
            values = _finite_list(cell["values"], f"claim {claim_id}, cell {cell.get('label')!r}")
            if not values:
                raise ParameterError("cells", f"at least one value per cell of claim {claim_id}",
                                     cell.get("label"))
            checked.append({"label": str(cell.get("label", "")), "values": values,
                            "deterministic": bool(cell.get("deterministic", False))})
        if not checked:
            raise ParameterError("cells", f"at least one cell for claim {claim_id}", "none")
        record = self._record("claim", registered["paper"], data_kind, evidence)
        record.update(claim_id=claim_id, cells=checked, unit=registered["unit"])
        self.records.append(record)
        return record

    def _record(self, kind, paper, data_kind, note):
        data_kind = data_kind or self.data_kind
        if data_kind not in DATA_KINDS:
            raise ParameterError("data_kind", f"one of {DATA_KINDS}", data_kind)
        return {"kind": kind, "paper": str(paper), "profile": self.profile, "seed": self.seed,
                "data_kind": data_kind, "notebook": self.stem, "note": note}

    # -- saving -----------------------------------------------------------------------
    def save(self) -> Path:
        """Write ``summary.json``, ``report.json`` and ``provenance.json``; return the folder."""
        summary = {"notebook": self.stem, "profile": self.profile,
                   "base_profile": self.base_profile, "overrides": self.overrides,
                   "seed": self.seed, "data_kind": self.data_kind, "parameters": self.parameters,
                   "values": self.values, "tables": self.tables, "figures": self.figures}
        atomic.write_json(self.out_dir / "summary.json", summary)
        atomic.write_json(self.out_dir / "report.json", self.records)
        record = provenance(self.profile, self.seed, time.perf_counter() - self._started)
        record.update(base_profile=self.base_profile, overrides=self.overrides)
        if self.timings:
            record["timings"] = self.timings
        if self.training_devices:
            record["devices"] = self.training_devices
        if self.run_sittings:
            record["sittings"] = self.run_sittings
        atomic.write_json(self.out_dir / "provenance.json", record)
        return self.out_dir


def _finite_list(values, what: str) -> list[float]:
    out = [float(v) for v in _plain(list(values))]
    if not all(math.isfinite(v) for v in out):
        raise ParameterError(what, "finite numbers", out)
    return out


def _glue(name, value):
    """Glue into the running notebook when there is one (myst-nb), silently otherwise."""
    try:
        from IPython import get_ipython

        if get_ipython() is None:
            return
        from myst_nb import glue
    except ImportError:
        return
    glue(name, value, display=False)


def glue(name, value):
    """Glue ``value`` under ``name`` for the page's prose (no summary entry; see
    :class:`wiloc_core.committed.Story`, which glues a committed run's numbers)."""
    _glue(name, _plain(value))


def git_commit() -> tuple[str, bool]:
    """The repository's HEAD commit and whether the work tree has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=paths.repo_root(), capture_output=True,
                              text=True, timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD") or "unknown"
        # Committed results are outputs, not code: changes there do not make a run dirty.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", False
    return commit, dirty


def machine_description() -> str:
    import os

    return f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, {platform.system()})"


#: Packages whose versions go into provenance (those that can change a number).
PROVENANCE_PACKAGES = ("wiloc", "numpy", "scipy", "pandas", "scikit-learn", "torch", "matplotlib")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PROVENANCE_PACKAGES` (``"absent"`` when not installed)."""
    from importlib import metadata

    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def provenance(profile: str, seed: int, duration_s: float) -> dict:
    """Where, when and with what a run was made: commit, machine, packages, data read and
    the simulator's version."""
    from wiloc_core.data.resolve import data_reads
    from wiloc_core.sim import SIMULATOR_VERSION

    commit, dirty = git_commit()
    return {"commit": commit, "dirty": dirty,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_description(), "python": sys.version.split()[0],
            "packages": package_versions(), "data": data_reads(),
            "profile": profile, "seed": int(seed), "duration_s": round(float(duration_s), 2),
            "simulator_version": SIMULATOR_VERSION}
