#!/bin/sh
echo "app from $APP_HOME"
