"""Where a model library's ONNX files are, and CPU sessions over them (facerec and bibocr alike).

A library's files are found, in order: the folder its own setting names; the folder of the
importable package the faces layer bundles them as (at /opt/python on AWS, at its unzipped path
under the local process executor), when the files are there; ``$PHOTOSTACK_CACHE/<cache_folder>``,
where infra/models/ fetches them. ``PHOTOSTACK_ONNX_THREADS`` sets intra-op threads per session.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort
from onnx_config import MODEL_DIR_SETTINGS, get_onnx_settings


def models_dir(setting: str, bundled_package: str, cache_folder: str, marker: str) -> Path:
    if setting not in MODEL_DIR_SETTINGS:
        raise ValueError(f"{setting} is not one of onnx_config's {MODEL_DIR_SETTINGS}")
    explicit = get_onnx_settings().model_dirs.get(setting)
    if explicit:
        return Path(explicit)
    bundled = importlib.util.find_spec(bundled_package)
    if bundled is not None and bundled.origin and (Path(bundled.origin).parent / marker).is_file():
        return Path(bundled.origin).parent
    return get_onnx_settings().cache / cache_folder


def cpu_sessions(folder: Path, threads: int | None = None) -> Callable[[str], ort.InferenceSession]:
    """A maker of sessions over the files of ``folder``, sharing one set of options."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads is not None else get_onnx_settings().threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the models carry unused initialisers that onnxruntime warns about

    def session(name: str) -> ort.InferenceSession:
        return ort.InferenceSession(str(folder / name), sess_options=options,
                                    providers=["CPUExecutionProvider"])

    return session


def releasing_run() -> ort.RunOptions:
    """Run options for models whose input shape changes with every call (bibocr's text detection
    at each photo's aspect, recognition of text lines of every width): the session's CPU memory
    arena hands back what a run grew it by when the run ends.

    The arena otherwise keeps every block it ever grew, and nearly every photo brings a new shape:
    a warm face-index function passed its 1024 MB after ~10 web derivatives of the bench's corpus
    and was killed mid-batch, its whole SQS batch back only after the queue's 360 s visibility
    timeout. Measured over those 20 derivatives (OCR only, one thread): peak 625 MB instead of
    1060 MB and rising, for ~25 % more CPU per photo (the freed pages are faulted in again);
    without any arena the peak was 830 MB for ~29 % more. The face models take fixed-size inputs,
    so their arenas stop growing after the first photo and keep them.
    """
    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


RELEASING_RUN = releasing_run()
