#!/bin/sh
echo "server up"
