"""Build ama's optional compiled core (ama/_speedups.c, ama/_blake3.c); metadata is in setup.cfg.

The extension is optional: where there is no compiler or no Python headers
the build of it fails quietly and ama runs its pure-Python core
(ama/policy.py; ``ama --version`` says which one is active).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class optional_build_ext(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as e:  # no compiler at all
            print(f"ama: not building the compiled core ({e}); the pure-Python core will be used")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            print(f"ama: not building {ext.name} ({e}); the pure-Python core will be used")


setup(
    ext_modules=[
        Extension(
            "ama._speedups",
            ["ama/_speedups.c", "ama/_blake3.c"],
            depends=["ama/_blake3.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-std=gnu11"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": optional_build_ext},
)
