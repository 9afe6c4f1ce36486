#!/usr/bin/env python3
"""Check an RL fine-tuning implementation against rlgf's conformance kit.

    rlgf conformance export kit/
    python3 tools/conformance_check.py kit/ --adapter my_module:my_function
    python3 tools/conformance_check.py kit/ --outputs my_outputs/

The kit (README, "Checking your own implementation") holds one HDF5 file per case family,
/<case>/inputs/<name> and /<case>/expected/<name>, with rtol/atol/where attributes on every
expected dataset. Per case this prints PASS, FAIL (the first differing element, both values and
the tolerance) or SKIP (the implementation does not provide the case), then a summary.

An adapter is a Python callable taking one Case (family, name, kind, params, inputs: dicts of
numpy arrays) and returning a dict {expected name: array-like}, or None for a case it does not
implement. Names it leaves out are reported as not provided (a failure with --strict).

An outputs directory holds OUT/<family>.h5 with one dataset /<case>/<name> per quantity (the
layout --write-outputs produces). A kit directory is also a valid outputs directory: rlgf's own
answers are its /<case>/expected/<name>.

Exit status: 0 no case failed, 1 some case failed, 2 bad input.
Needs h5py and numpy (Debian: python3-h5py python3-numpy).
"""
import argparse
import fnmatch
import importlib
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    sys.stderr.write("conformance_check: %s (Debian: apt-get install python3-h5py python3-numpy)\n" % e)
    sys.exit(2)

SCHEMA_VERSION = 1


class Case:
    """One known-answer case: what an adapter receives."""

    def __init__(self, family, name, kind, params, inputs, description):
        self.family, self.name, self.kind = family, name, kind
        self.params, self.inputs, self.description = params, inputs, description

    def __repr__(self):
        return "Case(%s/%s, kind=%s)" % (self.family, self.name, self.kind)


def _attr(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def load_kit(kit_dir):
    """Yields (family, Case, {name: (expected array, rtol, atol, where)}) for every case."""
    files = sorted(f for f in os.listdir(kit_dir) if f.endswith(".h5"))
    if not files:
        raise ValueError("'%s' holds no .h5 files (run `rlgf conformance export %s` first)" % (kit_dir, kit_dir))
    for fn in files:
        path = os.path.join(kit_dir, fn)
        with h5py.File(path, "r") as f:
            if _attr(f.attrs.get("kit", b"")) != "rlgf conformance":
                raise ValueError("'%s' is not an rlgf conformance file (no kit attribute)" % path)
            sv = int(f.attrs.get("schema_version", -1))
            if sv != SCHEMA_VERSION:
                raise ValueError("'%s': schema_version %d, this checker reads %d" % (path, sv, SCHEMA_VERSION))
            family = _attr(f.attrs["family"])
            for cname in f:  # creation order is tracked, but name order is what h5py lists: stable
                g = f[cname]
                params = {k: _attr(v) for k, v in g.attrs.items() if k not in ("kind", "description")}
                inputs = {k: g["inputs"][k][()] for k in g["inputs"]}
                expected = {}
                for k in g["expected"]:
                    d = g["expected"][k]
                    expected[k] = (d[()], float(d.attrs["rtol"]), float(d.attrs["atol"]), _attr(d.attrs["where"]))
                yield family, Case(family, cname, _attr(g.attrs["kind"]), params, inputs,
                                   _attr(g.attrs["description"])), expected


def compare(name, got, exp, rtol, atol, where_mask):
    """None when got matches exp, else a one-line description of the first differing element."""
    e = np.asarray(exp)
    try:
        g = np.asarray(got)
        if g.dtype == object:
            raise TypeError("object array")
        g = g.astype(np.float64) if e.dtype.kind == "f" else g
    except (TypeError, ValueError) as ex:
        return "%s: not an array of numbers (%s)" % (name, ex)
    if g.shape != e.shape:
        if g.size == 1 and e.size == 1:
            g = g.reshape(e.shape)
        else:
            return "%s: shape %s, expected %s" % (name, g.shape, e.shape)
    sel = np.ones(e.shape, dtype=bool)
    if where_mask is not None:
        m = np.asarray(where_mask).astype(bool)
        while m.ndim < e.ndim:
            m = m[..., None]
        sel = np.broadcast_to(m, e.shape)
    if e.dtype.kind == "f":
        tol = atol + rtol * np.abs(e)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(g - e) <= tol)  # NaN in g is a difference
    else:
        tol = None
        bad = g != e
    bad &= sel
    nbad = int(bad.sum())
    if nbad == 0:
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    at = "[%s]" % ",".join(str(i) for i in idx) if idx else ""
    gv, ev = g[idx] if idx else g[()], e[idx] if idx else e[()]
    if tol is None:
        how = "exact match required"
        return "%s%s: got %s, expected %s (%s); %d of %d compared elements differ" % (
            name, at, gv, ev, how, nbad, int(sel.sum()))
    return "%s%s: got %.9g, expected %.9g (|diff| %.3g > atol %g + rtol %g * |expected|); %d of %d compared elements differ" % (
        name, at, gv, ev, abs(gv - ev), atol, rtol, nbad, int(sel.sum()))


def load_adapter(spec):
    if ":" not in spec:
        raise ValueError("--adapter '%s': expected MODULE:FUNCTION (a module on sys.path or a file path)" % spec)
    mod, fn = spec.rsplit(":", 1)
    if mod.endswith(".py") or os.sep in mod:
        d, base = os.path.split(os.path.abspath(mod))
        sys.path.insert(0, d)
        mod = base[:-3] if base.endswith(".py") else base
    m = importlib.import_module(mod)
    if not hasattr(m, fn):
        raise ValueError("--adapter: module '%s' has no '%s'" % (mod, fn))
    return getattr(m, fn)


class OutputsDir:
    def __init__(self, d):
        if not os.path.isdir(d):
            raise ValueError("--outputs '%s': not a directory" % d)
        self.d, self.files = d, {}

    def __call__(self, case):
        path = os.path.join(self.d, case.family + ".h5")
        if path not in self.files:
            self.files[path] = h5py.File(path, "r") if os.path.exists(path) else None
        f = self.files[path]
        if f is None or case.name not in f:
            return None
        g = f[case.name]
        if "expected" in g and isinstance(g["expected"], h5py.Group):  # a kit file: rlgf's own answers
            g = g["expected"]
        return {k: g[k][()] for k in g if isinstance(g[k], h5py.Dataset)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="adapter protocol and layouts: README, 'Checking your own implementation'")
    ap.add_argument("kit", help="directory written by `rlgf conformance export`")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--adapter", metavar="MODULE:FUNCTION", help="a callable taking a Case, returning {name: array}")
    src.add_argument("--outputs", metavar="DIR", help="DIR/<family>.h5 with /<case>/<name> datasets")
    ap.add_argument("--case", action="append", metavar="GLOB", help="only cases whose family/name match (repeatable)")
    ap.add_argument("--strict", action="store_true", help="a skipped case or a quantity not provided is a failure")
    ap.add_argument("--rtol", type=float, help="override every case's relative tolerance")
    ap.add_argument("--atol", type=float, help="override every case's absolute tolerance")
    ap.add_argument("--write-outputs", metavar="DIR", help="also write what the adapter returned, in the outputs layout")
    ap.add_argument("-q", "--quiet", action="store_true", help="print failures and the summary only")
    ap.add_argument("-v", "--verbose", action="store_true", help="every differing quantity of a failed case, not only the first")
    a = ap.parse_args(argv)
    try:
        impl = load_adapter(a.adapter) if a.adapter else OutputsDir(a.outputs)
        cases = list(load_kit(a.kit))
    except (ValueError, OSError, ImportError, KeyError) as ex:
        sys.stderr.write("conformance_check: %s\n" % ex)
        return 2
    out_files = {}
    if a.write_outputs:
        os.makedirs(a.write_outputs, exist_ok=True)
    npass = nfail = nskip = 0
    for family, case, expected in cases:
        label = "%s/%s" % (family, case.name)
        if a.case and not any(fnmatch.fnmatch(label, p) or fnmatch.fnmatch(case.name, p) for p in a.case):
            continue
        try:
            got = impl(case)
        except NotImplementedError as ex:
            got, why = None, str(ex)
        except Exception as ex:  # the implementation under test crashed: that is its failure
            print("FAIL %s: the implementation raised %s: %s" % (label, type(ex).__name__, ex))
            nfail += 1
            continue
        else:
            why = ""
        if got is None:
            msg = "SKIP %s: not provided (kind '%s')%s" % (label, case.kind, ": " + why if why else "")
            if a.strict:
                print(msg.replace("SKIP", "FAIL", 1))
                nfail += 1
            else:
                if not a.quiet:
                    print(msg)
                nskip += 1
            continue
        if a.write_outputs:
            p = os.path.join(a.write_outputs, family + ".h5")
            if p not in out_files:
                out_files[p] = h5py.File(p, "w", track_order=True)
            g = out_files[p].create_group(case.name)
            for k, v in got.items():
                g.create_dataset(k, data=np.asarray(v))
        problems, missing = [], []
        for name, (exp, rtol, atol, where) in expected.items():
            if name not in got:
                missing.append(name)
                continue
            mask = case.inputs.get(where) if where else None
            r = compare(name, got[name], exp, a.rtol if a.rtol is not None else rtol,
                        a.atol if a.atol is not None else atol, mask)
            if r:
                problems.append(r)
        checked = len(expected) - len(missing)
        if a.strict and missing:
            problems.append("not provided: %s" % ", ".join(missing))
        if checked == 0 and not problems:
            if not a.quiet:
                print("SKIP %s: none of %s provided" % (label, ", ".join(expected)))
            nskip += 1
            continue
        if problems:
            more = ""
            if len(problems) > 1 and not a.verbose:
                more = " [+%d more quantities differ: %s]" % (
                    len(problems) - 1, ", ".join(p.split(":")[0].split("[")[0] for p in problems[1:]))
            print("FAIL %s: %s%s" % (label, problems[0], more))
            if a.verbose:
                for p in problems[1:]:
                    print("     %s: %s" % (label, p))
            nfail += 1
        else:
            if not a.quiet:
                note = " (not provided: %s)" % ", ".join(missing) if missing else ""
                print("PASS %s: %d quantities%s" % (label, checked, note))
            npass += 1
    for f in out_files.values():
        f.close()
    print("conformance: %d passed, %d failed, %d skipped" % (npass, nfail, nskip))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
