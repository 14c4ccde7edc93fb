#!/bin/sh
# Builds llama.cpp's llama-bench and llama-quantize (Release, CPU only, -DGGML_NATIVE=ON, static,
# no network libraries) from a source tree and installs them to ~/.cache/surgery/llama.cpp/bin, where
# `Benchmarks decode` looks for them. llama.cpp is a benchmark peer only: none of its code enters
# this project.
#
# Usage: Tools/build-llama-cpp.sh SRC_DIR
#   SRC_DIR  a llama.cpp source tree (its CMakeLists.txt at the top). If SRC_DIR does not exist, the
#            tree is taken from PyPI's llama-cpp-python source distribution, which vendors llama.cpp
#            (vendor/llama.cpp), with pip; LLAMA_CPP_PYTHON_VERSION picks its version (0.3.36).
# Needs cmake and a C/C++ compiler (Debian: apt-get install -y cmake build-essential).
# BUILD_DIR (default SRC_DIR/build-surgery) and PREFIX (default ~/.cache/surgery/llama.cpp) move things.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 SRC_DIR" >&2
    exit 2
fi
SRC=$1
PREFIX=${PREFIX:-$HOME/.cache/surgery/llama.cpp}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}

if [ ! -e "$SRC" ]; then
    echo "$SRC does not exist: taking llama.cpp from llama-cpp-python $VERSION's source distribution" >&2
    DL=$(mktemp -d)
    python3 -m pip download "llama-cpp-python==$VERSION" --no-binary :all: --no-deps -d "$DL" >&2
    tar -xzf "$DL"/llama_cpp_python-"$VERSION".tar.gz -C "$DL"
    mkdir -p "$(dirname "$SRC")"
    mv "$DL/llama_cpp_python-$VERSION/vendor/llama.cpp" "$SRC"
    rm -rf "$DL"
fi
if [ ! -f "$SRC/CMakeLists.txt" ]; then
    echo "$SRC is not a llama.cpp source tree (no CMakeLists.txt)" >&2
    exit 1
fi
command -v cmake >/dev/null || { echo "cmake is missing (Debian: apt-get install -y cmake)" >&2; exit 1; }

BUILD=${BUILD_DIR:-$SRC/build-surgery}
cmake -S "$SRC" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=ON \
    -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_OPENCL=OFF -DGGML_RPC=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
cmake --build "$BUILD" --config Release -j2 --target llama-bench llama-quantize

mkdir -p "$PREFIX/bin"
for tool in llama-bench llama-quantize; do
    cp "$BUILD/bin/$tool" "$PREFIX/bin/$tool"
done
echo "installed: $PREFIX/bin/llama-bench $PREFIX/bin/llama-quantize"
"$PREFIX/bin/llama-bench" --help >/dev/null 2>&1 && echo "llama-bench runs"
