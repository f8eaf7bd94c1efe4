"""The book's figure style, set in one place."""

from __future__ import annotations

#: Colours for "paper" vs "ours" wherever both are drawn.
PAPER_COLOUR = "#7f7f7f"
OURS_COLOUR = "#1f77b4"


def use_style() -> None:
    """Seaborn's whitegrid theme at notebook scale, with figure sizes that fit a book page."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update({
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 100,
        "axes.titlesize": "medium",
        "savefig.bbox": "tight",
        "svg.hashsalt": "wiloc",
    })


def ecdf_axes(ax, errors_by_label: dict, *, unit: str = "m", linestyles: dict | None = None):
    """Draw exact ECDFs of positioning errors, one curve per label."""
    from wiloc_core.metrics import ecdf

    for label, errors in errors_by_label.items():
        x, f = ecdf(errors)
        ax.step(x, f, where="post", label=label,
                linestyle=(linestyles or {}).get(label, "-"))
    ax.set_xlabel(f"positioning error ({unit})")
    ax.set_ylabel("empirical CDF")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="lower right")
    return ax
