#!/bin/sh
# The plugin exports its entry point and GModule's hook, nothing else;
# the build made the translation template with the page's strings.
# Usage: check-plugin.sh PLUGIN.so TEMPLATE.pot
set -eu
plugin=$1 pot=$2
exported=$(nm -D --defined-only "$plugin" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
echo "exported: $exported"
[ "$exported" = "g_module_check_init tv_settings_plugin_init " ] || {
  echo "FAIL: the plugin exports more (or less) than its entry point" >&2; exit 1; }
for msgid in 'msgid "Memory"' 'msgid "Priority %u"' 'msgid "Balancing %u VM, %s shared"' \
             'msgid_plural "Balancing %u VMs, %s shared"' 'msgid "Swapping"' \
             'msgid "%s MiB"' 'msgid "%.1f GiB"'; do
  grep -qF "$msgid" "$pot" || { echo "FAIL: $pot lacks $msgid" >&2; exit 1; }
done
echo "$pot: $(grep -c '^msgid ' "$pot") messages"
