#!/bin/sh
# The plugin exports its entry point and GModule's hook, nothing else.
# (Its strings in the translation template: tests/i18n.)
# Usage: check-plugin.sh PLUGIN.so
set -eu
plugin=$1
exported=$(nm -D --defined-only "$plugin" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
echo "exported: $exported"
[ "$exported" = "g_module_check_init tv_settings_plugin_init " ] || {
  echo "FAIL: the plugin exports more (or less) than its entry point" >&2; exit 1; }
