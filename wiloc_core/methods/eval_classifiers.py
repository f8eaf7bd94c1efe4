"""Classifiers of the EVAL experiment (paper 003 §III-E, §IV, Figs. 7-8) behind one call.

* ``"dnn"``: the paper's error-vector-based classifier, a fully connected network with
  two hidden layers of SELU units and a softmax output over the classes (26: 25 spots
  and the empty room), trained on cross-entropy by backpropagation (§III-E). The paper
  gives neither the layer width nor the optimiser; ours: :data:`HIDDEN` units per layer,
  Adam through :func:`wiloc_core.training.fit` with early stopping on a held-out tenth
  (the default ``settings`` of :func:`fit_predict`), weights from the seed's stream. The softmax is folded into the
  cross-entropy loss; the predicted class is the arg max of the logits, the same as of
  the softmax.
* the six baselines of Fig. 8, from scikit-learn with their default hyper-parameters
  (the paper names the methods only): ``"lr"`` logistic regression, ``"dt"`` decision
  tree, ``"rf"`` random forest, ``"svm"`` support vector machine (RBF kernel), ``"knn"``
  k-nearest neighbours (k = 5), ``"nb"`` Gaussian naive Bayes. Logistic regression stops
  at scikit-learn's default of 100 L-BFGS iterations whether or not it has converged, as
  a default-configured run would (its convergence warning is silenced).

Inputs are standardised with the training set's per-feature mean and standard deviation
before every method (ours; it changes nothing for trees and naive Bayes, and helps the
others). Features are taken as given: phases enter as angles in rad, as the paper feeds
them.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

#: Method names accepted by :func:`fit_predict`.
METHODS = ("dnn", "lr", "dt", "rf", "svm", "knn", "nb")
#: Classes of the paper's experiment (25 spots and the empty room).
N_CLASSES = 26
#: Units in each of the DNN's two hidden layers (not given by the paper).
HIDDEN = 128


def _dnn_settings():
    from wiloc_core.training import TrainSettings

    return TrainSettings(epochs=200, lr=1e-3, batch_size=64, patience=15, val_fraction=0.1,
                         device="auto", progress=False)


def dnn(n_features: int, n_classes: int = N_CLASSES, hidden: int = HIDDEN):
    """The paper's classifier: Linear-SELU, Linear-SELU, Linear (logits of the softmax).

    Parameters
    ----------
    n_features : int
        Input width (e.g. 52 subcarriers of one feature).
    n_classes : int
    hidden : int
        Units per hidden layer.

    Returns
    -------
    torch.nn.Sequential
        Maps float32 (batch, n_features) to logits (batch, n_classes).
    """
    from torch import nn

    return nn.Sequential(nn.Linear(n_features, hidden), nn.SELU(),
                         nn.Linear(hidden, hidden), nn.SELU(),
                         nn.Linear(hidden, n_classes))


def _baseline(method: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    return {"lr": lambda: LogisticRegression(),
            "dt": lambda: DecisionTreeClassifier(random_state=seed),
            "rf": lambda: RandomForestClassifier(random_state=seed, n_jobs=1),
            "svm": lambda: SVC(random_state=seed),
            "knn": lambda: KNeighborsClassifier(n_neighbors=5),
            "nb": lambda: GaussianNB()}[method]()


def _check(features_train, y_train, features_test):
    xtr = np.asarray(features_train, dtype=np.float64)
    xte = np.asarray(features_test, dtype=np.float64)
    y = np.asarray(y_train)
    if xtr.ndim != 2 or xte.ndim != 2 or xtr.shape[1] != xte.shape[1]:
        raise ParameterError("features", "2-D arrays (n, d) with the same d for train and test",
                             f"shapes {xtr.shape} and {xte.shape}")
    if y.shape != (xtr.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ParameterError("y_train", f"non-negative integer labels, shape ({xtr.shape[0]},)",
                             f"{y.dtype} {y.shape}")
    if not (np.all(np.isfinite(xtr)) and np.all(np.isfinite(xte))):
        raise ParameterError("features", "finite values", "NaN or inf")
    return xtr, y.astype(np.int64), xte


def fit_predict(features_train, y_train, features_test, *, method: str, seed: int,
                n_classes: int = N_CLASSES, settings=None) -> np.ndarray:
    """Train one classifier on the training features and predict the test classes.

    Parameters
    ----------
    features_train : array_like, float, shape (n_train, d)
        E.g. one feature of :func:`wiloc_core.data.eval_packets.eval_features` (d = 52).
    y_train : array_like, int, shape (n_train,)
        Class indices in 0..n_classes-1.
    features_test : array_like, float, shape (n_test, d)
    method : {"dnn", "lr", "dt", "rf", "svm", "knn", "nb"}
    seed : int >= 0
        The DNN's weights, validation split and batch order; the tree, forest and SVM's
        random state. The same seed gives the same predictions (on the CPU).
    n_classes : int
        Width of the DNN's softmax (26 in the paper); must exceed every label.
    settings : wiloc_core.training.TrainSettings, optional
        The DNN's training (default: Adam, lr 1e-3, batches of 64, up to 200 epochs,
        early stopping after 15 without improvement on a 10 % validation split).

    Returns
    -------
    numpy.ndarray, int64, shape (n_test,)
        Predicted class of every test row.
    """
    if method not in METHODS:
        raise ParameterError("method", f"one of {METHODS}", method)
    if not (isinstance(seed, int | np.integer) and seed >= 0):
        raise ParameterError("seed", "an int >= 0", seed)
    xtr, y, xte = _check(features_train, y_train, features_test)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    std[std == 0] = 1.0
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    if method != "dnn":
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = _baseline(method, int(seed)).fit(xtr, y)
        return np.asarray(model.predict(xte), dtype=np.int64)

    from torch import nn

    from wiloc_core.training import fit, predict, seeded_init

    if y.max() >= n_classes:
        raise ParameterError("n_classes", f"more than the largest label {y.max()}", n_classes)
    net = seeded_init(dnn, int(seed), xtr.shape[1], n_classes)
    fit(net, xtr.astype(np.float32), y, settings or _dnn_settings(), seed=int(seed),
        loss=nn.functional.cross_entropy)
    return predict(net, xte.astype(np.float32)).argmax(axis=1).astype(np.int64)
