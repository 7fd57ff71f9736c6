"""Entry point: trains and writes the visual-expert (tiny-cogvlm) and tensor-modality (tiny-imagebind) bundles.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/reference-model/families/make_vexpert_tensor.py [--family cogvlm|imagebind|all] [--quick]

Both start from models/mmserve-tiny's trained parts (mmtiny.from_bundle); logs go to tools/reference-model/work/.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/reference-model: mmtiny and families as packages

from families import common_vexpert as C  # noqa: E402
from mmtiny import from_bundle  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "../../.."))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=["cogvlm", "imagebind", "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="tiny pools and step counts: a smoke test of the pipeline")
    ap.add_argument("--base", default=os.path.join(ROOT, "models/mmserve-tiny"))
    ap.add_argument("--out-root", default=os.path.join(ROOT, "models/families"))
    ap.add_argument("--work", default=os.path.join(ROOT, "tools/reference-model/work"))
    args = ap.parse_args()
    C.deterministic()
    for fam in (["cogvlm", "imagebind"] if args.family == "all" else [args.family]):
        log = C.make_logger(args.work, f"tiny-{fam}")
        t0 = time.time()
        base, tok = from_bundle.load(args.base)
        log(f"loaded mmserve-tiny from {args.base}; golden components within {from_bundle.check_against_golden(base, args.base):.1e}")
        out = os.path.join(args.out_root, f"tiny-{fam}")
        if fam == "cogvlm":
            from families import cogvlm as F
        else:
            from families import imagebind as F
        F.build(base, tok, out, args.work, log, quick=args.quick)
        log(f"tiny-{fam}: {time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
