#!/bin/sh
# Stands for transform.py: sums the extracted values into /data/transformed.csv.
awk -F, 'NR > 1 { total += $2 } END { print "total," total }' /data/extracted.csv > /data/transformed.csv
cat /data/transformed.csv
