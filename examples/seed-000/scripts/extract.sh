#!/bin/sh
# Stands for extract.py: writes the extracted rows to /data/extracted.csv.
echo "extracting (PYTHONPATH=$PYTHONPATH)"
printf 'id,value\n1,10\n2,20\n3,12\n' > /data/extracted.csv
echo "wrote /data/extracted.csv"
