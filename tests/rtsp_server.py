"""A tiny RTSP server for the tests: publishes an H.264 MP4 file at rtsp://127.0.0.1:PORT/cam.

Runs under the SYSTEM Python (/usr/bin/python3) with Debian's GStreamer packages
(gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-good/-bad), not the
project's virtualenv. Each client gets the file from its start, and the stream ends
with the file (tests that need a long stream first remux the clip several times end to
end). Prints "READY <port>" once listening.

    /usr/bin/python3 tests/rtsp_server.py --port 8554 --file video.mp4
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


class FileFactory(GstRtspServer.RTSPMediaFactory):
    """Serves the file's video track, from its start, to each client."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.set_shared(False)

    def do_create_element(self, url):  # noqa: N802 (GObject virtual method)
        location = self.path.replace("\\", "\\\\").replace('"', '\\"')
        desc = (
            f'( filesrc location="{location}" ! qtdemux name=d d.video_0 ! queue '
            "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )"
        )
        return Gst.parse_launch(desc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--mount", default="/cam")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, FileFactory(args.file))
    if server.attach(None) == 0:
        print(f"FAILED to listen on port {args.port}", flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
