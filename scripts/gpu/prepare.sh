#!/usr/bin/env bash
# Run HERE (Debian 12) before using the GPU machine: collects what scripts/gpu/build.sh needs there
# into .gpu/ (git-ignored through .git/info/exclude; carry it): the headers and static libraries of
# our non-LibTorch dependencies (that machine has no Debian -dev packages and cannot fetch any) and
# the CIFAR-10 archive. About 27 MB.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >> .git/info/exclude
# The files below come from the packages scripts/setup.sh installs.
p=.gpu/prefix
rm -rf "$p" && mkdir -p "$p/include" "$p/lib" "$p/share/cmake"
cp -r /usr/include/{CLI,nlohmann,stb,libpng16} "$p/include/"
cp /usr/include/{jerror.h,jmorecfg.h,jpeglib.h,png.h,pngconf.h,pnglibconf.h,zconf.h,zlib.h,archive.h,archive_entry.h} \
   /usr/include/x86_64-linux-gnu/jconfig.h "$p/include/"
cp /usr/lib/x86_64-linux-gnu/{libjpeg.a,libpng16.a,libz.a,libarchive.a,libstb.a} "$p/lib/"
cp -r /usr/share/cmake/{CLI11,nlohmann_json} "$p/share/cmake/"
cp ../shared/data/cifar10-jpg.tar.gz .gpu/
du -sh .gpu
