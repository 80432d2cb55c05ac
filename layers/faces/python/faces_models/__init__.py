"""The face models (fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx), next to this file.

In the repository this folder holds only this file: the models come from an npm package
(infra/models/fetch.sh caches them outside the repo) and infra/deploy.py copies them in when it
builds the faces layer. `facerec.models.models_dir()` finds them through this package.
"""
