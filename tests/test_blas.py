"""Which BLAS the C backend links: MKL from the `mkl` wheel where installed, else the system's OpenBLAS."""

import glob
import os
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt

import symdl
from symdl.lowering.backends import mode_of


def test_mkl_is_preferred_where_its_wheel_is_installed(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libmkl_rt.so.3").touch()
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    lib = tmp_path / "lib"
    assert symdl._blas_ldflags() == rf"-L{lib} -l:libmkl_rt.so.3 -Wl\,-rpath\,{lib}"


def test_the_system_openblas_without_mkl(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    expected = "-lopenblas" if glob.glob("/usr/lib/*/libopenblas.so") else ""
    assert symdl._blas_ldflags() == expected


def test_a_users_own_choice_is_kept(monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", "blas__ldflags=-lblas")
    symdl._link_blas()
    assert os.environ["PYTENSOR_FLAGS"] == "blas__ldflags=-lblas"


def test_the_c_backend_multiplies_through_a_blas():
    """PyTensor is linked to a BLAS (the tests import symdl first) and a product through it is right."""
    assert pytensor.config.blas__ldflags == symdl._blas_ldflags().replace("\\,", ",")
    a, b = pt.matrix(dtype="float32"), pt.matrix(dtype="float32")
    f = pytensor.function([a, b], a @ b, mode=mode_of("c"))
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 784), dtype=np.float32), rng.random((784, 500), dtype=np.float32)
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()] == ["Dot22"]
    np.testing.assert_allclose(f(x, y), x @ y, rtol=1e-4)
