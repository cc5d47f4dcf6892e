"""Decoding a video stream with PyAV, packet by packet: the one loop that camera streams
and video files share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import av


def packet_frames(container: av.container.InputContainer, stream: av.video.VideoStream,
                  bad_packet: Callable[[Exception], None]) -> Iterator[list[av.VideoFrame]]:
    """The frames of each packet of `stream`, in order; a packet that does not decode
    gives none and is reported to `bad_packet` (decoding goes on with the next one). A
    demux error (a broken container or connection) is raised, as `av.FFmpegError`."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError as e:
            bad_packet(e)
            frames = []
        yield frames
