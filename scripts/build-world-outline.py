#!/usr/bin/env python3
"""Builds crates/cli/assets/world-110m.json, the low-detail world outline `seclog report` draws its
map of callers on. Run once by a maintainer; the output is committed.

Source: the npm package world-atlas 2.0.2 (ISC, Michael Bostock), `land-110m.json`: Natural Earth's
1:110m land polygons (public domain) as TopoJSON. This decodes its arcs into rings of
[longitude, latitude], rounded to 0.1 degree, outer rings and holes apart; a ring cut at the
antimeridian is made continuous and drawn on both sides; Antarctica (south of the map) is left out.
"""
import hashlib
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile

VERSION = "2.0.2"
SHA256 = "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97"

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "crates/cli/assets/world-110m.json"


def decode(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((round(x * sx + tx, 1), round(y * sy + ty, 1)))
        arcs.append(points)

    def ring(indexes):
        points = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            points.extend(arc if not points else arc[1:])
        deduped = [p for j, p in enumerate(points) if j == 0 or p != points[j - 1]]
        return [list(p) for p in deduped]

    def unwrap(points):
        # A ring cut at the antimeridian jumps from 180 to -180: make its longitudes continuous
        # (past 180 or -180), so it is not drawn as a band across the whole map.
        out = [points[0]]
        for lon, lat in points[1:]:
            prev = out[-1][0]
            while lon - prev > 180:
                lon -= 360
            while lon - prev < -180:
                lon += 360
            out.append([round(lon, 1), lat])
        return out

    def shifted(rings, by):
        return [[[round(lon + by, 1), lat] for lon, lat in r] for r in rings]

    polygons = []
    for geometry in topo["objects"]["land"]["geometries"]:
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for shape in shapes:
            rings = [unwrap(ring(r)) for r in shape]
            if max(lat for _, lat in rings[0]) < -60:
                continue  # Antarctica: the map starts at 60 degrees south
            copies = [rings]
            if any(lon > 180 for lon, _ in rings[0]):
                copies.append(shifted(rings, -360))
            if any(lon < -180 for lon, _ in rings[0]):
                copies.append(shifted(rings, 360))
            for c in copies:
                polygons.append({"outer": c[0], "holes": c[1:]})
    return polygons


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"world-atlas@{VERSION}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = pathlib.Path(tmp) / f"world-atlas-{VERSION}.tgz"
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if SHA256 and digest != SHA256:
            sys.exit(f"world-atlas {VERSION}: unexpected SHA-256 {digest}")
        with tarfile.open(tarball) as tar:
            topo = json.load(tar.extractfile("package/land-110m.json"))
    polygons = decode(topo)
    document = {
        "source": f"world-atlas {VERSION} (ISC) land-110m.json: Natural Earth 1:110m land, public domain",
        "tarball_sha256": digest,
        "polygons": polygons,
    }
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"{out.relative_to(root)}: {len(polygons)} polygons, {out.stat().st_size} bytes (tarball {digest})")


if __name__ == "__main__":
    main()
