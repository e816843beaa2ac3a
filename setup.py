"""Build step beside pyproject.toml: the wheel carries compiled translation catalogs (.mo).

The .mo files are not committed; `make install` and start-up compile them in a checkout, but
an installed package may be read-only, so the build writes them into the wheel itself.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

TRANSLATIONS = Path("lti_tool") / "translations"


class BuildWithCatalogs(build_py):
    """build_py, then every lti_tool/translations/<lang>/LC_MESSAGES/*.po compiled beside it."""

    def run(self):
        super().run()
        for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            target = Path(self.build_lib) / po_path.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            with target.open("wb") as mo_file:
                write_mo(mo_file, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
