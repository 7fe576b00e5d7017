#!/bin/sh
# What the seed's process.py stands for: read the input directory (mounted read-only), write a
# result into the output directory (mounted read-write).
in=${1:?usage: process.sh INPUT_DIR}
count=$(ls "$in" | wc -l)
echo "processing $in: $count input file(s)"
echo "processed $count file(s) from $in" > /container/output/result.txt
echo "wrote /container/output/result.txt"
