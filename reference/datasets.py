"""Datasets shipped with scikit-learn (no downloads) and their partitions among clients.

IID: a seeded shuffle split evenly. Label skew: for each class, the proportions going to the
clients are drawn from Dirichlet(alpha) (Hsu, Qi, Brown 2019); small alpha means each client sees
few classes. Every client gets at least `min_size` samples (topped up from the largest client), so local
training is never on an empty set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: dataset name -> scikit-learn loader function; scikit-learn is imported only when a dataset is
#: loaded, so that every command but `train` starts without it (issue 12, start-up)
LOADERS = {
    "digits": "load_digits",
    "wine": "load_wine",
    "breast-cancer": "load_breast_cancer",
    "iris": "load_iris",
}
PARTITIONS = ("iid", "dirichlet")


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def load(name: str, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """A stratified train/test split, features standardised on the training part."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(LOADERS)}")
    from sklearn import datasets as skd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = getattr(skd, LOADERS[name])(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    return Dataset(
        name, scaler.transform(x_tr), y_tr.astype(np.int64), scaler.transform(x_te), y_te.astype(np.int64)
    )


def partition(
    y: np.ndarray, n_clients: int, kind: str, seed: int, alpha: float = 0.3, min_size: int = 5
) -> list[np.ndarray]:
    """Indices of each client's samples: "iid" or "dirichlet" label skew with concentration alpha."""
    rng = np.random.default_rng(seed)
    if n_clients * min_size > len(y):
        raise ValueError(f"{len(y)} samples cannot give {n_clients} clients {min_size} each")
    if kind == "iid":
        return [np.sort(part) for part in np.array_split(rng.permutation(len(y)), n_clients)]
    if kind != "dirichlet":
        raise ValueError(f"unknown partition {kind!r}; choose one of {', '.join(PARTITIONS)}")
    parts: list[list[int]] = [[] for _ in range(n_clients)]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        cuts = (np.cumsum(rng.dirichlet([alpha] * n_clients))[:-1] * len(idx)).astype(int)
        for client, chunk in enumerate(np.split(idx, cuts)):
            parts[client].extend(chunk.tolist())
    # top up clients below min_size with random samples of the largest one (keeps the skew)
    for client in range(n_clients):
        while len(parts[client]) < min_size:
            donor = max(range(n_clients), key=lambda k: len(parts[k]))
            parts[client].append(parts[donor].pop(int(rng.integers(len(parts[donor])))))
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def client_durations(n_clients: int, seed: int, kind: str = "lognormal", spread: float = 1.0) -> np.ndarray:
    """Heavy-tailed training durations (simulated seconds, median 1): lognormal(0, spread), or
    Pareto with shape 1/spread (Lomax plus one). Client speed is 1/duration."""
    rng = np.random.default_rng(seed)
    if kind == "lognormal":
        return rng.lognormal(0.0, spread, n_clients)
    if kind == "pareto":
        raw = 1.0 + rng.pareto(1.0 / spread, n_clients)
        return raw / np.median(raw)
    raise ValueError(f"unknown speed distribution {kind!r}")
