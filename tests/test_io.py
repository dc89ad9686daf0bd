"""The file format: exact round trips of every object, and bad files refused with a clear error.

Round trips are checked field by field (arrays bit for bit, sparse index structure, scalars) and
by behaviour (the loaded object simulates / predicts / scores identically). Bad files are made
by hand from a good one: another program's archive, truncation at many points, a header from a
newer format version, an array removed, a damaged byte, and an array that only unpickling
could read.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowrank_rnn
from lowrank_rnn import LowRankRNN
from lowrank_rnn.connectivity import fixed_degree_mask
from lowrank_rnn.io import (
    FORMAT_VERSION,
    HEADER_NAME,
    load,
    read_header,
    register_format,
    registered_formats,
    save,
)
from lowrank_rnn.large import FixedDegreeRankOne
from lowrank_rnn.simulate import simulate

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------------------ helpers
def _same_array(a: np.ndarray, b: np.ndarray) -> None:
    assert isinstance(b, np.ndarray)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _same_sparse(a, b) -> None:
    assert sp.issparse(b) and b.format == a.format and b.shape == a.shape
    assert isinstance(b, sp.sparray) == isinstance(a, sp.sparray)
    _same_array(a.data, b.data)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.indptr, b.indptr)


def _same_network(a: LowRankRNN, b: LowRankRNN) -> None:
    assert isinstance(b, LowRankRNN)
    for name in ("M", "N", "I", "W"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None)
        if va is not None:
            _same_array(va, vb)
    for name in ("random", "mask"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None)
        if va is not None and sp.issparse(va):
            _same_sparse(va, vb)
        elif va is not None:
            _same_array(va, vb)
    for name in ("scale", "readout_scale", "tau", "phi"):
        assert getattr(a, name) == getattr(b, name)
        assert type(getattr(a, name)) is type(getattr(b, name))


def _network(n: int, rank: int, d_in: int, d_out: int, structure: str, phi: str,
             seed: int) -> LowRankRNN:
    rng = np.random.default_rng(seed)
    kw = {}
    if "mask" in structure:
        kw["mask"] = fixed_degree_mask(n, max(1, n // 3), rng=rng)
    if "sprand" in structure:
        kw["random"] = sp.random_array((n, n), density=0.3, rng=rng, format="csr")
    if "dense" in structure:
        kw["random"] = rng.normal(size=(n, n)) / np.sqrt(n)
    return LowRankRNN(
        M=rng.normal(size=(n, rank)), N=rng.normal(size=(n, rank)),
        I=rng.normal(size=(n, d_in)) if d_in else None,
        W=rng.normal(size=(n, d_out)) if d_out else None,
        scale=float(rng.uniform(0.1, 2)), readout_scale=float(rng.uniform(0.1, 2)),
        tau=float(rng.uniform(0.5, 3)), phi=phi, **kw,
    )


STRUCTURES = ["lowrank", "mask", "sprand", "dense", "mask+sprand", "mask+dense"]


# ------------------------------------------------------------------------------ networks
@SETTINGS
@given(n=st.integers(1, 12), rank=st.integers(1, 3), d_in=st.integers(0, 2),
       d_out=st.integers(0, 2), structure=st.sampled_from(STRUCTURES),
       phi=st.sampled_from(["tanh", "relu", "linear"]), seed=st.integers(0, 2**16),
       compress=st.booleans())
def test_network_round_trip_is_exact(tmp_path: Path, n, rank, d_in, d_out, structure, phi, seed,
                                     compress) -> None:
    net = _network(n, rank, d_in, d_out, structure, phi, seed)
    path = net.save(tmp_path / "net.npz", compress=compress)
    back = LowRankRNN.load(path)
    _same_network(net, back)
    assert back.structure == net.structure
    np.testing.assert_array_equal(back.to_dense(), net.to_dense())


def test_loaded_network_simulates_identically(tmp_path: Path) -> None:
    net = _network(30, 2, 2, 1, "mask+sprand", "tanh", 3)
    back = lowrank_rnn.load(lowrank_rnn.save(net, tmp_path / "n.npz"))
    u = np.random.default_rng(0).normal(size=(3, 20, 2))
    a = simulate(net, u, dt=0.1, noise=0.2, rng=5)
    b = simulate(back, u, dt=0.1, noise=0.2, rng=5)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.z, b.z)


def test_non_contiguous_and_fortran_arrays_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    tree = {"f": np.asfortranarray(rng.normal(size=(4, 3))), "v": rng.normal(size=(6, 6))[::2, 1:],
            "i": np.arange(7, dtype=np.int16), "b": np.array([True, False]),
            "s": np.array(["ab", "c"]), "c": rng.normal(size=3) + 1j}
    back = load(save(tree, tmp_path / "t.npz"))
    for key, value in tree.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == value.dtype
    assert back["f"].flags.f_contiguous


def test_fixed_degree_rank_one_round_trip_plain_and_segmented(tmp_path: Path) -> None:
    plain = FixedDegreeRankOne.random(3000, 40, 0.1, 0.05, rng=0, dtype="float32")
    seg = FixedDegreeRankOne(plain.m, plain.n, plain.idx, segment_bytes=2000, copy=True)
    assert seg.n_segments > 1
    v = np.random.default_rng(2).normal(size=3000)
    for i, obj in enumerate((plain, seg)):
        back = FixedDegreeRankOne.load(obj.save(tmp_path / f"p{i}.npz"))
        _same_array(obj.m, back.m)
        _same_array(obj.n, back.n)
        _same_array(obj.idx, back.idx)
        assert (back.scale, back.dtype, back.n_segments, back.segment_length) == \
            (obj.scale, obj.dtype, obj.n_segments, obj.segment_length)
        if obj._counts is not None:
            _same_array(obj._counts, back._counts)
        np.testing.assert_array_equal(back.rmatvec(v), obj.rmatvec(v))
        np.testing.assert_array_equal(back.matvec(v), obj.matvec(v))
        np.testing.assert_array_equal(back.column_rows(17), plain.column_rows(17))


def test_segmented_counts_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    plain = FixedDegreeRankOne.random(500, 40, 0.1, 0.05, rng=0)
    seg = FixedDegreeRankOne(plain.m, plain.n, plain.idx, segment_bytes=800, copy=True)
    seg._counts = seg._counts.copy()
    seg._counts[3, 0] += 1
    path = save(seg, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=str(path).replace("\\", "\\\\") + ".*counts"):
        load(path)


# ------------------------------------------------------------------------------ estimators
def test_ode_embedding_round_trip_predicts_and_simulates_identically(tmp_path: Path) -> None:
    from lowrank_rnn.fit.regression import ODEEmbedding
    from lowrank_rnn.fit.targets import bistable

    est = ODEEmbedding(1, 40, inputs="bias", random_state=np.random.default_rng(3))
    est.fit(bistable, box=(-1.5, 1.5), n_points=200)
    back = ODEEmbedding.load(est.save(tmp_path / "e.npz"))
    for name in ("rank", "n_neurons", "inputs", "ridge", "phi", "m_std", "i_std", "solver"):
        assert getattr(back, name) == getattr(est, name)
    assert back.random_state.bit_generator.state == est.random_state.bit_generator.state
    assert back.info_ == est.info_
    _same_network(est.network_, back.network_)
    Z = np.linspace(-2, 2, 30)[:, None]
    np.testing.assert_array_equal(back.predict(Z), est.predict(Z))
    t1, z1 = est.simulate_latent(np.array([[0.3], [-0.2]]), t_span=2.0, dt=0.05)
    t2, z2 = back.simulate_latent(np.array([[0.3], [-0.2]]), t_span=2.0, dt=0.05)
    np.testing.assert_array_equal(z1, z2)


def test_ode_embedding_with_given_basis_and_unfitted(tmp_path: Path) -> None:
    from lowrank_rnn.fit.regression import ODEEmbedding, sample_basis

    basis = sample_basis(20, 1, 1, rng=5)
    est = ODEEmbedding(1, 20, basis=basis, inputs="bias", random_state=4)
    back = load(save(est, tmp_path / "u.npz"))
    assert isinstance(back.basis, tuple)
    np.testing.assert_array_equal(back.basis[0], basis[0])
    assert not hasattr(back, "N_")


@pytest.mark.parametrize("decay", ["fit", "fixed"])
def test_smallest_rnn_round_trip(tmp_path: Path, decay: str) -> None:
    from lowrank_rnn.fit.omp import SmallestRNN
    from lowrank_rnn.fit.targets import bistable

    est = SmallestRNN(n_candidates=300, max_neurons=6, decay=decay, random_state=1)
    est.fit(bistable, box=(-1.5, 1.5), n_points=100)
    back = SmallestRNN.load(est.save(tmp_path / "s.npz"))
    assert back.info_ == est.info_
    assert isinstance(back.candidates_, tuple)
    assert len(back.weights_path_) == len(est.weights_path_)
    Z = np.linspace(-1.5, 1.5, 20)[:, None]
    for k in range(est.selected_.size + 1):
        np.testing.assert_array_equal(back.predict(Z, k), est.predict(Z, k))
    if est.network_ is not None:
        _, z1 = est.simulate_latent(np.array([[0.5]]), t_span=1.0, dt=0.05)
        _, z2 = back.simulate_latent(np.array([[0.5]]), t_span=1.0, dt=0.05)
        np.testing.assert_array_equal(z1, z2)


def test_lds_estimators_round_trip_score_identically(tmp_path: Path) -> None:
    from lowrank_rnn.fit.lds import LDSEM, ReducedRankRNN
    from lowrank_rnn.models.lds import LatentLDS, LinearLowRankRNN, sample_lds

    rng = np.random.default_rng(0)
    lds = LatentLDS(A=[[0.9, 0.2], [-0.2, 0.8]], C=rng.standard_normal((4, 2)), Q=np.eye(2),
                    R=np.eye(4), B=rng.standard_normal((2, 1)))
    u = rng.standard_normal((3, 40, 1))
    _, y = sample_lds(lds, 3, 40, inputs=u, rng=1)
    em = LDSEM(2, n_iter=5, obs_cov="diag").fit(y, inputs=u)
    rrr = ReducedRankRNN(2, weight="mle").fit(y, inputs=u)
    em2 = LDSEM.load(em.save(tmp_path / "em.npz"))
    rrr2 = ReducedRankRNN.load(rrr.save(tmp_path / "rrr.npz"))
    assert isinstance(em2.lds_, LatentLDS) and isinstance(rrr2.rnn_, LinearLowRankRNN)
    assert em2.score(y, inputs=u) == em.score(y, inputs=u)
    assert rrr2.score(y, inputs=u) == rrr.score(y, inputs=u)
    _same_array(em.log_likelihood_, em2.log_likelihood_)
    assert (em2.n_iter_, em2.converged_) == (em.n_iter_, em.converged_)
    assert (em2.n_latent, em2.n_iter, em2.tol, em2.obs_cov) == (2, 5, em.tol, "diag")
    assert set(rrr2.info_) == set(rrr.info_)
    assert registered_formats()["LatentLDS"] is LatentLDS


def test_gaussian_mixture_and_vector_field_fit_round_trip(tmp_path: Path) -> None:
    from lowrank_rnn.fit.populations import VectorFieldFit
    from lowrank_rnn.theory.meanfield import GaussianMixture

    cov = np.array([[1.0, 0.5, 0.1], [0.5, 2.0, 0.0], [0.1, 0.0, 1.0]])
    mix = GaussianMixture(np.array([0.3, 0.7]), np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]]),
                          np.stack([cov, 2 * cov]), rank=1, phi="tanh", tau=1.5)
    back = GaussianMixture.load(mix.save(tmp_path / "m.npz"))
    for name in ("fractions", "means", "covs"):
        _same_array(getattr(mix, name), getattr(back, name))
    assert (back.rank, back.phi, back.tau) == (1, "tanh", 1.5)
    _same_network(mix.network(50, rng=3), back.network(50, rng=3))
    fit = VectorFieldFit(mix, 0.1, 0.2, np.zeros((5, 1)), {"a_m": np.ones((2, 1))}, {"nfev": 3})
    fit2 = load(save(fit, tmp_path / "v.npz"))
    assert fit2.relative_error == 0.1 and fit2.info == {"nfev": 3}
    np.testing.assert_array_equal(fit2.params["a_m"], np.ones((2, 1)))


# ------------------------------------------------------------------------------ trees
def test_plain_trees_round_trip(tmp_path: Path) -> None:
    gen = np.random.default_rng(9)
    gen.normal(size=3)
    tree = {
        "nan": float("nan"), "inf": -float("inf"), "z": 1 + 2j, "t": (1, "a", None),
        "l": [1, 2.5, [True]], "np": np.float32(1.5), "i64": np.int64(7),
        "keys": {1: "one", ("a", 2): "pair"}, "dollar": {"$array": "not a marker"},
        "gen": gen, "path": Path("a/b"), "net": _network(5, 1, 1, 1, "lowrank", "tanh", 0),
        "big": 2**80,
    }
    back = load(save(tree, tmp_path / "tree.npz"))
    assert np.isnan(back["nan"]) and back["inf"] == -float("inf")
    assert back["z"] == 1 + 2j and back["t"] == (1, "a", None) and back["l"] == [1, 2.5, [True]]
    assert back["np"] == np.float32(1.5) and type(back["np"]) is np.float32
    assert type(back["i64"]) is np.int64
    assert back["keys"] == {1: "one", ("a", 2): "pair"}
    assert back["dollar"] == {"$array": "not a marker"}
    assert back["gen"].normal() == gen.normal()
    assert back["path"] == Path("a/b") and back["big"] == 2**80
    _same_network(tree["net"], back["net"])
    assert read_header(tmp_path / "tree.npz")["type"] == "dict"


def test_header_records_format_and_package_version(tmp_path: Path) -> None:
    path = save(_network(4, 1, 0, 0, "lowrank", "tanh", 0), tmp_path / "n.npz")
    header = read_header(path)
    assert header["format"] == "lowrank-rnn"
    assert header["format_version"] == FORMAT_VERSION
    assert header["package_version"] == lowrank_rnn.__version__
    assert header["type"] == "LowRankRNN"
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == HEADER_NAME
    with np.load(path, allow_pickle=False) as npz:  # other tools read the arrays directly
        np.testing.assert_array_equal(npz["M"], load(path).M)


def test_register_format_for_a_user_class(tmp_path: Path) -> None:
    class Point:
        def __init__(self, xy: np.ndarray, label: str) -> None:
            self.xy, self.label = xy, label

    register_format(Point, lambda p: {"xy": p.xy, "label": p.label},
                    lambda s: Point(**s), name="test.Point")
    back = load(save([Point(np.arange(2.0), "a")], tmp_path / "p.npz"))
    assert back[0].label == "a" and np.array_equal(back[0].xy, [0.0, 1.0])
    with pytest.raises(ValueError, match="name"):
        register_format(Point, lambda p: p, lambda s: s, name="$bad")


def test_unstorable_objects_raise_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    with pytest.raises(ValueError, match="lambda|function"):
        save({"f": lambda: 1}, path)
    with pytest.raises(ValueError, match="dtype object"):
        save(np.array([{}], dtype=object), path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = save(_network(6, 1, 0, 0, "lowrank", "tanh", 0), tmp_path / "n.npz")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        save(_network(6, 1, 0, 0, "lowrank", "tanh", 1), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["n.npz"]


# ------------------------------------------------------------------------------ bad files
@pytest.fixture
def good(tmp_path: Path) -> Path:
    return save(_network(20, 2, 1, 1, "mask", "tanh", 0), tmp_path / "good.npz")


def _raises_naming(path: Path, what: str):
    import re

    return pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + what)


def _rewrite(src: Path, dst: Path, *, header=None, drop: str | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename == drop:
                continue
            data = zin.read(item.filename)
            if item.filename == HEADER_NAME and header is not None:
                data = json.dumps(header(json.loads(data))).encode()
            zout.writestr(item.filename, data)
    return dst


def test_not_our_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with _raises_naming(text, "not a lowrank-rnn file"):
        load(text)
    npz = tmp_path / "plain.npz"
    np.savez(npz, M=np.ones(3))
    with _raises_naming(npz, "not a lowrank-rnn file"):
        load(npz)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with _raises_naming(empty, "not a lowrank-rnn file"):
        load(empty)
    with _raises_naming(tmp_path / "missing.npz", "no such file"):
        load(tmp_path / "missing.npz")


def test_a_header_that_is_not_ours(good: Path, tmp_path: Path) -> None:
    other = _rewrite(good, tmp_path / "other.npz", header=lambda h: {**h, "format": "other"})
    with _raises_naming(other, "not a lowrank-rnn file"):
        load(other)


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.2, 0.5, 0.9, 0.99, 0.999])
def test_truncated_file(good: Path, tmp_path: Path, fraction: float) -> None:
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: max(50, int(len(data) * fraction))])
    with _raises_naming(cut, "truncated|damaged"):
        load(cut)


def test_every_truncation_point_is_refused(good: Path, tmp_path: Path) -> None:
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    for n in range(0, len(data), max(1, len(data) // 97)):
        cut.write_bytes(data[:n])
        with pytest.raises(ValueError, match="cut.npz"):
            load(cut)


def test_future_format_version(good: Path, tmp_path: Path) -> None:
    future = _rewrite(good, tmp_path / "future.npz",
                      header=lambda h: {**h, "format_version": FORMAT_VERSION + 1,
                                        "package_version": "9.0"})
    with _raises_naming(future, f"format version {FORMAT_VERSION + 1}.*upgrade"):
        load(future)
    with _raises_naming(future, "upgrade"):
        read_header(future)


def test_missing_array(good: Path, tmp_path: Path) -> None:
    gone = _rewrite(good, tmp_path / "gone.npz", drop="N.npy")
    with _raises_naming(gone, "missing array 'N'"):
        load(gone)


def test_array_of_the_wrong_shape(good: Path, tmp_path: Path) -> None:
    def shrink(h):
        h["arrays"]["M"]["shape"] = [3, 3]
        return h

    bad = _rewrite(good, tmp_path / "shape.npz", header=shrink)
    with _raises_naming(bad, "array 'M'"):
        load(bad)


def test_damaged_byte_in_an_array(good: Path, tmp_path: Path) -> None:
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("M.npy")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[at] ^= 0xFF
    bad = tmp_path / "flip.npz"
    bad.write_bytes(bytes(data))
    with _raises_naming(bad, "array 'M' is truncated or damaged"):
        load(bad)


def test_an_invalid_stored_network_is_refused(good: Path, tmp_path: Path) -> None:
    def negative_tau(h):
        h["root"]["state"]["tau"] = -1.0
        return h

    bad = _rewrite(good, tmp_path / "tau.npz", header=negative_tau)
    with _raises_naming(bad, "could not be rebuilt.*tau"):
        load(bad)


def test_unknown_type_and_wrong_expected_type(good: Path, tmp_path: Path) -> None:
    def rename(h):
        h["root"]["$object"] = "NoSuchType"
        return h

    bad = _rewrite(good, tmp_path / "unknown.npz", header=rename)
    with _raises_naming(bad, "unknown stored type 'NoSuchType'"):
        load(bad)
    with _raises_naming(good, "holds a LowRankRNN, expected a FixedDegreeRankOne"):
        FixedDegreeRankOne.load(good)


class _Trap:
    """Unpickling this creates a file: the proof that something was unpickled."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_nothing_is_ever_unpickled(good: Path, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    payload = tmp_path / "payload.npy"
    np.save(payload, np.array([_Trap(str(target))], dtype=object), allow_pickle=True)
    assert pickle.loads(pickle.dumps(_Trap(str(target)))) is None and target.exists()
    target.unlink()  # the trap works; now hide it in a file of ours
    bad = tmp_path / "trap.npz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "M.npy":
                data = payload.read_bytes()
            zout.writestr(item.filename, data)
    with _raises_naming(bad, "array 'M'"):
        load(bad)
    assert not target.exists()
