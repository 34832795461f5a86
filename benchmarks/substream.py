"""A clip re-encoded as an IP camera's substream delivers it: H.264 at a low frame rate, a keyframe every 2 s,
no B-frames. For benchmarks only (``serve.py --substream``, ``capture_decode.py --substream``); made in a
temporary folder at run time, never committed. Needs PyAV (``av``, in the ``dev`` extra).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

KEYFRAME_EVERY_S = 2.0


def source_fps(src: Path) -> float:
    """The clip's average frame rate."""
    import av

    with av.open(str(src)) as inp:
        return round(float(inp.streams.video[0].average_rate), 3)


def reencode(src: Path, fps: float, out_dir: Path, passes: int = 1) -> Path:
    """``src`` at ``fps`` frames per second (the first frame at or after each 1/fps step), ``passes`` times
    over, written as ``out_dir``/NAME_FPSfps_xPASSES.mp4."""
    import av  # benchmarks only: the worker does not need PyAV

    dst = out_dir / f"{src.stem}_{fps:g}fps_x{passes}.mp4"
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        video = inp.streams.video[0]
        enc = out.add_stream("libx264", rate=rate)
        enc.width, enc.height, enc.pix_fmt = video.codec_context.width, video.codec_context.height, "yuv420p"
        gop = max(1, round(KEYFRAME_EVERY_S * fps))
        enc.options = {"preset": "veryfast", "crf": "23", "bf": "0", "g": str(gop), "keyint_min": str(gop)}
        enc.codec_context.time_base = 1 / rate
        frames = [f.to_ndarray(format="yuv420p") for f in _sampled(inp.decode(video), fps)]
        for index in range(len(frames) * passes):
            new = av.VideoFrame.from_ndarray(frames[index % len(frames)], format="yuv420p")
            new.pts, new.time_base = index, 1 / rate
            out.mux(enc.encode(new))
        out.mux(enc.encode(None))
    return dst


def _sampled(frames, fps: float):
    """The first frame at or after each 1/``fps`` step of the clip's own timestamps."""
    index = 0
    for frame in frames:
        if frame.time is not None and frame.time + 1e-6 >= index / fps:
            yield frame
            index += 1
