#!/bin/sh
# Run by busybox `uevent` for every kernel uevent (environment: ACTION, SUBSYSTEM, DEVPATH, ...).
# The seed's udev rules, verbatim in effect:
#   ACTION=="add", SUBSYSTEM=="cpu", ATTR{online}="1"
#   ACTION=="add", SUBSYSTEM=="memory", ATTR{state}="online"
[ "$ACTION" = add ] || exit 0
case $SUBSYSTEM in
  cpu) f=/sys$DEVPATH/online; v=1 ;;
  memory) f=/sys$DEVPATH/state; v=online ;;
  *) exit 0 ;;
esac
[ -f "$f" ] || exit 0
# One console line per event, for the tests (writing "online" to an online block fails: reported too).
if echo "$v" >"$f" 2>/dev/null; then r=ok; else r=failed; fi
echo "NPRULE $ACTION $SUBSYSTEM ${DEVPATH##*/} $r" >/dev/console
exit 0
