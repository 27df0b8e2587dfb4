#!/bin/sh
# nginx serving GET / ("Hello, World!") and 404 "Not Found" elsewhere from a config written here,
# WORKERS worker processes, in the foreground (the harness ends its process group).
# Usage: nginx.sh PORT WORKERS
set -eu
port=$1
workers=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cb-nginx.XXXXXX")
mkdir -p "$dir/logs"
cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location = / { return 200 "Hello, World!"; }
    location / { return 404 "Not Found"; }
  }
}
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
