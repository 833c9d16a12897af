"""Vendor the State design system (DSFR, npm @gouvfr/dsfr, licence Etalab 2.0) for the
report: the core and the few components the report uses, with the Marianne fonts and
the icons they reference inlined as data URIs, so the report requests nothing.

Developer tool, run when upgrading DSFR (its output is committed):
    npm pack @gouvfr/dsfr@1.15.3 && tar xzf gouvfr-dsfr-1.15.3.tgz
    python -m pipelines.report.vendor_dsfr package/
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
COMPONENTS = ["table", "badge", "callout", "tag", "logo", "header", "footer", "notice", "tile", "summary", "alert", "card",
              "skiplink", "link"]
FONTS = {"Marianne-Light", "Marianne-Regular", "Marianne-Medium", "Marianne-Bold"}


def _data_uri(path: Path, mime: str) -> str:
    return f"url(data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()})"


def _font_faces(css: str, dist: Path) -> str:
    """Keep the @font-face rules of the faces we inline (woff2 only), drop the others:
    a face left pointing at a missing file would make the browser log an error."""
    def replace(match):
        rule = match.group(0)
        name = re.search(r"fonts/([A-Za-z_-]+)\.woff2", rule)
        if not name or name.group(1) not in FONTS:
            return ""
        uri = _data_uri(dist / "fonts" / f"{name.group(1)}.woff2", "font/woff2")
        return re.sub(r"src:[^;}]+", f'src:{uri} format("woff2")', rule)
    return re.sub(r"@font-face\{[^}]*\}", replace, css)


def _icons(css: str, base: Path) -> str:
    def replace(match):
        target = (base / match.group(1)).resolve()
        if target.suffix == ".svg" and target.exists():
            return _data_uri(target, "image/svg+xml")
        return "none"
    return re.sub(r"url\(([^)\"']+\.svg)\)", replace, css)


def build(package: Path) -> Path:
    dist = package / "dist"
    version = json.loads((package / "package.json").read_text())["version"]
    parts = [_icons(_font_faces((dist / "core" / "core.min.css").read_text(encoding="utf-8"), dist), dist / "core")]
    for name in COMPONENTS:
        css_path = dist / "component" / name / f"{name}.min.css"
        parts.append(_icons(css_path.read_text(encoding="utf-8"), css_path.parent))
    css = "\n".join(parts)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # comments carry URLs; the licence is beside
    # Remaining url() to files we do not ship would be requested: neutralise them.
    css = re.sub(r"""url\((?!['"]?data:)[^)]*\)""", "none", css)
    ASSETS.mkdir(parents=True, exist_ok=True)
    out = ASSETS / "dsfr.min.css"
    out.write_text(f"/* DSFR {version} (@gouvfr/dsfr), licence Etalab 2.0 — voir DSFR-LICENCE.md */\n{css}\n",
                   encoding="utf-8")
    licence = (package / "LICENSE.md").read_text(encoding="utf-8")
    (ASSETS / "DSFR-LICENCE.md").write_text(
        f"Extrait vendu du DSFR {version} (npm @gouvfr/dsfr) : core, composants {', '.join(COMPONENTS)}, "
        f"polices {', '.join(sorted(FONTS))}.\n\n{licence}", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
