"""`anprd label DIR`: a page in the browser to confirm or correct the plates of a crops
folder (`events.crops`); the corrections go back into its labels.csv."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("label", help="confirm or correct the plates of a crops folder",
                              description=__doc__)
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--listen", default="127.0.0.1:9109",
                   help="address of the page (default 127.0.0.1:9109: this machine only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anprd.api.label_page import LabelServer, LabelStore

    try:
        store = LabelStore(args.folder)
    except (OSError, ValueError) as e:
        print(f"anprd label: {e}", file=sys.stderr)
        return 2
    try:
        server = LabelServer(args.listen, store)
    except (OSError, ValueError) as e:
        print(f"anprd label: cannot listen on {args.listen}: {e}", file=sys.stderr)
        return 2
    checked = sum(r.checked for r in store.rows)
    print(f"{len(store.rows)} crops in {args.folder}, {checked} checked: open {server.url} "
          "(Ctrl-C to stop)", flush=True)
    server.serve_forever()  # until Ctrl-C or SIGTERM
    return 0
