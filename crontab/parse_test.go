package crontab

import (
	"os"
	"strings"
	"testing"
)

func TestSystemFile(t *testing.T) {
	for file, want := range map[string]bool{
		"/etc/crontab": true, "/etc/cron.d/backup": true, "/var/spool/cron/crontabs/ops": false,
		"crontab": false, "/etcetera/crontab": false,
	} {
		if got := SystemFile(file); got != want && os.PathSeparator == '/' {
			t.Errorf("SystemFile(%q) = %v", file, got)
		}
	}
}

func TestNameFromCommand(t *testing.T) {
	for cmd, want := range map[string]string{
		"/usr/local/bin/backup.sh --full":          "backup.sh",
		"FOO=1 BAR=2 /opt/job/run":                 "run",
		"cd /srv && ./deploy.sh":                   "deploy.sh",
		`"C:\Program Files\Jaja\backup.exe" /full`: "backup.exe",
		"test -x /usr/bin/x && /usr/bin/x":         "x",
		"cd /tmp":                                  "",
		"FOO=1":                                    "",
		"/":                                        "",
		strings.Repeat("a", 300) + " --x":          strings.Repeat("a", 200),
		"echo\x01hi":                               "echohi",
		"[ -f /etc/maint ] || /usr/sbin/check; ls": "check",
	} {
		if got := nameFromCommand(cmd); got != want {
			t.Errorf("nameFromCommand(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestSundaySeven(t *testing.T) {
	for dow, want := range map[string]string{
		"7": "0", "5-7": "5-6,0", "1,7": "1,0", "1-7/2": "1-7/2", "*": "*", "mon-fri": "mon-fri", "0-7": "0-6,0",
	} {
		if got := sundaySeven(dow); got != want {
			t.Errorf("sundaySeven(%q) = %q, want %q", dow, got, want)
		}
	}
}

func TestCronCommand(t *testing.T) {
	for cmd, want := range map[string]string{
		"date +\\%F":      "date +%F",
		"mail root%body%": "mail root",
		"plain":           "plain",
		"a\\%b%c\\%d":     "a%b",
		"trailing\\":      "trailing\\",
		"a\\\\%b":         "a\\\\",
		"a\\\\\\%b":       "a\\\\%b",
	} {
		if got := cronCommand(cmd); got != want {
			t.Errorf("cronCommand(%q) = %q, want %q", cmd, got, want)
		}
	}
}
