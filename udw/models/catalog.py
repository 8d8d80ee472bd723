"""The catalogue of models UDW Studio knows by name (repo ids, files, licences).

Task modules look models up here by name; users can always pass a file path instead.
"""

from .registry import ModelSpec, register

register(
    ModelSpec("lbpcascade_animeface", "detectors", None, ("lbpcascade_animeface.xml",), licence="MIT",
              description="nagadomi's OpenCV LBP cascade for anime faces (light fallback detector); "
                          "https://github.com/nagadomi/lbpcascade_animeface"),
)
