"""What every fingerprint chapter repeats, written once: the chapter helper.

Chapters 00, 20 and 21 begin alike and end alike. A notebook calls :func:`start` in
its first code cell and gets back a :class:`Chapter`: the settings of its profile with
the reader's overrides, the datasets loaded from one ``data_source``, and the
:class:`~wiloc_core.results.ResultSet` that labels the run (``quick``, ``full`` or
``custom``). What follows is the chapter's own work; at the end,
:func:`claims_table` shows the claims the run measured, judged by the report's rules.

Names mean the same in every chapter:

``data_source``
    Where fingerprints come from: ``"auto"`` (the real files when found, else
    simulated stand-ins, said in a note on the page), ``"real"`` (the real files or an
    error), ``"simulated"``, or the path of a folder holding the files under their
    manifest names (checked against the manifest's sha256). The CTF chapter takes
    ``"simulated"`` or a path in the same sense.
``torch_threads``
    Torch CPU threads; an execution parameter (it changes speed, never results).

Paper 001 names our datasets differently (:data:`PAPER_NAMES`); this is the one map.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wiloc_core.errors import ParameterError

#: The names paper 001 gives the datasets we hold (its Tables 1-4 and §4.1).
PAPER_NAMES = {"UJI1": "UJIIndoorLoc", "TUT3": "Tampere", "UTS": "UTS"}
#: ``data_source`` values that are not paths.
DATA_SOURCES = ("auto", "real", "simulated")


def paper_name(name: str) -> str:
    """Paper 001's name of a dataset (``"UJI1"`` -> ``"UJIIndoorLoc"``).

    Datasets the paper did not use (``"TUT5"``, ``"LIB1"``) keep our name, so
    ``paper_name(n) == n`` says that the paper has no such dataset.
    """
    return PAPER_NAMES.get(name, name)


def chapter_key(stem: str) -> str:
    """The profiles key of a notebook stem: ``"20-surrogate-teachers"`` -> ``"surrogate-teachers"``."""
    match = re.fullmatch(r"\d\d-(.+)", stem)
    if not match:
        raise ParameterError("stem", "a notebook stem 'NN-name'", stem)
    return match.group(1)


def preset(stem: str, profile: str) -> dict:
    """A profile's settings for a chapter, without overrides (e.g. the paper's protocol
    beside a quick run's): :func:`wiloc_core.profiles.settings` by notebook stem."""
    from wiloc_core.profiles import settings

    return settings(chapter_key(stem), profile)


def glue_key(*parts) -> str:
    """A glue key from labels: ``glue_key("UJI1", "DNN+++", "mae")`` -> ``"uji1_dnnppp_mae"``.

    ``+`` becomes ``p``, ``⋆`` ``mi``, ``*`` ``s``, ``%`` ``pct``; brackets go; spaces
    and dots become ``_``; everything is lower case. Distinct labels of one chapter
    (``DNN+`` / ``DNN++`` / ``DNN+++``, ``DNN*`` / ``DNN**``) give distinct keys.
    """
    text = "_".join(str(p) for p in parts)
    for old, new in (("+", "p"), ("⋆", "mi"), ("*", "s"), ("[", ""), ("]", ""), (" ", "_"),
                     (".", "_"), ("%", "pct")):
        text = text.replace(old, new)
    return text.lower()


def paper_value_or_nan(paper: str, item: str, row: str, column: str) -> float:
    """The registry's value, or NaN when the paper prints none for this key.

    For tables that show the paper's column beside ours where the paper has only some
    rows (Table 3's extra sources, Table 4's UTS column).
    """
    from wiloc_core import paper_values

    try:
        return paper_values.paper_value(paper, item, row, column)
    except KeyError:
        return math.nan


def has_paper_value(paper: str, item: str, row: str, column: str) -> bool:
    """Whether the registry holds this key (then :meth:`ResultSet.compare` accepts it)."""
    return not math.isnan(paper_value_or_nan(paper, item, row, column))


# -- data ------------------------------------------------------------------------------
def load_datasets(names: Iterable[str], data_source: str = "auto", seed: int = 0) -> dict:
    """Load fingerprint datasets by manifest name from one ``data_source``.

    Parameters
    ----------
    names : iterable of str
        Manifest names (``"UJI1"``, ``"TUT3"``, ``"TUT5"``, ``"LIB1"``, ``"UTS"``);
        repeated names are loaded once.
    data_source : str
        ``"auto"``, ``"real"``, ``"simulated"`` (:func:`wiloc_core.data.load_fingerprints`)
        or a folder holding the files as ``<folder>/<manifest path>`` or
        ``<folder>/<file name>``; such a file must match the manifest's sha256.
    seed : int
        Seed of simulated stand-ins.

    Returns
    -------
    dict
        name -> :class:`~wiloc_core.data.fingerprints.FingerprintDataset`, in the given order.
    """
    from wiloc_core.data import load_fingerprints

    loaded = {}
    for name in dict.fromkeys(names):
        if data_source in DATA_SOURCES:
            loaded[name] = load_fingerprints(name, source=data_source, seed=seed)
        else:
            loaded[name] = _load_from_folder(name, data_source)
    return loaded


def _load_from_folder(name: str, folder) -> object:
    from wiloc_core.data.fingerprints import load_fingerprint_file
    from wiloc_core.data.manifest import get_entry
    from wiloc_core.data.resolve import record_read, sha256_file, verify_file
    from wiloc_core.errors import DatasetNotFoundError

    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError("data_source", f"one of {DATA_SOURCES} or an existing folder", str(folder))
    entry = get_entry(name)
    for path in (folder / entry.path, folder / entry.filename):
        if path.is_file():
            verify_file(path, entry.sha256)
            record_read(entry.name, sha256_file(path))
            return load_fingerprint_file(path, name=entry.name)
    raise DatasetNotFoundError(f"dataset '{entry.name}' not found in data_source folder {folder} "
                               f"(looked for {entry.path} and {entry.filename})")


def page_data_kind(datasets: dict) -> str:
    """``"real"`` when every dataset on the page is real, else ``"simulated"``."""
    return "real" if all(ds.source_kind == "real" for ds in datasets.values()) else "simulated"


# -- the chapter -----------------------------------------------------------------------
@dataclass
class Chapter:
    """A running chapter: its settings, datasets and result set (see :func:`start`).

    Attributes
    ----------
    cfg : dict
        :func:`wiloc_core.profiles.settings` of the chapter, overrides applied.
    datasets : dict
        name -> FingerprintDataset.
    res : ResultSet
        Labelled ``custom`` when ``cfg["overrides"]`` is not empty.
    """

    stem: str
    cfg: dict
    datasets: dict
    res: object
    data_source: str = "auto"
    seed: int = 0
    kinds: dict = field(default_factory=dict)

    def data_note(self):
        """The visible note saying which datasets are real and which simulated."""
        from wiloc_core.display import data_kind_note

        return data_kind_note({n: ds.source_kind for n, ds in self.datasets.items()},
                              {n: ds.note for n, ds in self.datasets.items()})

    def run_line(self, details: str = ""):
        """One Markdown line naming the profile, seed and any overrides of this run."""
        from IPython.display import Markdown

        return Markdown(run_description(self.res) + (f" {details}" if details else ""))


def run_description(res) -> str:
    """``"This page was produced with the **quick** profile and seed **0**."``, or, for a
    custom run, the settings that differ from the preset (such a run is never judged)."""
    if not res.overrides:
        return f"This page was produced with the **{res.profile}** profile and seed **{res.seed}**."
    changed = "; ".join(f"`{k}` = {v['run']!r} (preset {v['preset']!r})" for k, v in res.overrides.items())
    return (f"This page is a **custom** run: the **{res.base_profile}** profile, seed **{res.seed}**, "
            f"with {changed}. A custom run is shown but never judged.")


def start(stem: str, profile: str, *, seed: int = 0, data_source: str = "auto",
          load: Iterable[str] | Callable[[dict], Iterable[str]] = (),
          torch_threads: int | None = None, parameters: dict | None = None,
          out_dir=None, **overrides) -> Chapter:
    """Begin a chapter: settings, torch threads, seeding, datasets and the result set.

    Parameters
    ----------
    stem : str
        Notebook stem, e.g. ``"20-surrogate-teachers"`` (its profiles key is the stem
        without ``NN-``).
    profile : {"quick", "full", "paper"}
    seed : int
        Seeds every generator (:func:`wiloc_core.seeding.seed_everything`) and the
        simulated stand-ins.
    data_source : str
        See :func:`load_datasets`.
    load : list of str, or function of the settings returning one
        The datasets to load, e.g. ``lambda cfg: cfg["datasets"]`` when they depend on
        a setting.
    torch_threads : int, optional
        Torch CPU threads (set only when given; torch is not imported otherwise).
    parameters : dict, optional
        Further parameters to save in ``summary.json``.
    out_dir : path, optional
        Where the result set writes (default ``build/results/<stem>``).
    **overrides
        The notebook's result-changing parameters, ``None`` meaning "the profile's
        value"; any other value makes the run ``custom``.

    Returns
    -------
    Chapter
    """
    from wiloc_core.profiles import settings
    from wiloc_core.results import ResultSet
    from wiloc_core.seeding import seed_everything

    if torch_threads is not None:
        import torch

        torch.set_num_threads(int(torch_threads))
    seed_everything(seed)
    cfg = settings(chapter_key(stem), profile, **overrides)
    names = list(load(cfg) if callable(load) else load)
    loaded = load_datasets(names, data_source, seed=seed)
    saved = {k: v for k, v in cfg.items() if k != "overrides"}
    saved.update({"seed": seed, "data_source": str(data_source), **(parameters or {})})
    res = ResultSet(stem, profile=profile, overrides=cfg["overrides"], seed=seed,
                    data_kind=page_data_kind(loaded), parameters=saved, out_dir=out_dir)
    return Chapter(stem=stem, cfg=cfg, datasets=loaded, res=res, data_source=str(data_source),
                   seed=seed, kinds={n: ds.source_kind for n, ds in loaded.items()})


# -- claims ----------------------------------------------------------------------------
CLAIM_COLUMNS = ["origin", "where", "claim", "quantity", "test", "ours", "status"]


def _band(row: dict) -> str:
    if row["test"] == "greater":
        return f"> {row['low']:g}"
    if row["test"] == "less":
        return f"< {row['high']:g}"
    return f"[{row['low']:g}, {row['high']:g}]"


def claims_table(records: list[dict], *, with_status: bool = True):
    """The page table of a run's claims: the registry's sentence beside what we measured.

    Parameters
    ----------
    records : list of dict
        ``res.records``; only claim records are used.
    with_status : bool
        Add the status from :func:`wiloc_core.report.evaluate` (the rules of
        :mod:`wiloc_core.verdicts`). Leave it out of saved tables: a status is
        re-derived from the records whenever the rules change.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CLAIM_COLUMNS` (``status`` only with ``with_status``): origin
        (``paper`` or ``ours``), where the paper makes it, the sentence, the quantity
        measured, the test with its band, our cells (label: mean over seeds [n]) and
        the status. Rows in record order.
    """
    import pandas as pd

    from wiloc_core import claims, report, verdicts

    claim_records = [r for r in records if r["kind"] == "claim"]
    evaluated = report.evaluate(claim_records) if with_status else claim_records
    rows = []
    for record in evaluated:
        row = claims.claim(record["claim_id"])
        band = _band(row)
        cells = "; ".join(f"{c['label']}: {verdicts.mean(c['values']):.3g} [{len(c['values'])}]"
                          for c in record["cells"])
        out = {"origin": row["origin"], "where": row["where"], "claim": row["sentence"],
               "quantity": row["quantity"], "test": f"{row['test']} {band} {row['unit']}".strip(),
               "ours": cells}
        if with_status:
            out["status"] = record["status"]
        rows.append(out)
    columns = CLAIM_COLUMNS if with_status else CLAIM_COLUMNS[:-1]
    return pd.DataFrame(rows, columns=columns)


# -- effects ---------------------------------------------------------------------------
def effect(paper_change: float, ours_changes) -> list[float] | None:
    """A change measured per seed, signed so that a positive number points the paper's way.

    This is the ``effect`` of :meth:`wiloc_core.results.ResultSet.compare`: the report
    never calls a value "reproduced" when its effect is reversed, and asks the effect to
    beat the seed-to-seed noise (:mod:`wiloc_core.verdicts`).

    Parameters
    ----------
    paper_change : float
        The same change in the paper (e.g. stand-alone MAE minus enhanced MAE, or the
        printed MAE change in %): only its sign is used.
    ours_changes : float or sequence of float
        Our change, one number per seed (a single number is one seed).

    Returns
    -------
    list of float or None
        ``sign(paper_change) * change`` per seed; ``None`` when the paper shows no
        change (zero or NaN), so that no direction is claimed.

    Examples
    --------
    >>> effect(-2.06, [1.5, 0.5])   # the paper's change is negative: ours flipped
    [-1.5, -0.5]
    """
    if paper_change is None or math.isnan(paper_change) or paper_change == 0:
        return None
    values = [ours_changes] if isinstance(ours_changes, numbers.Real) else list(ours_changes)
    return [math.copysign(1.0, paper_change) * float(v) for v in values]
