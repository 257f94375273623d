import { dirname } from 'node:path';
import { binPath } from '../bin-path.js';
import type { Session } from '../session.js';

/** Quotes a word for a POSIX shell. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes a word for a systemd Exec line. */
function systemdWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * `tickwork crontab`: prints a crontab line, a systemd timer + service and a Kubernetes
 * CronJob, each calling `tickwork run` every minute from this project's directory. Loads
 * no config (only finds it), so it works before the store exists.
 */
export async function crontabCommand(session: Session, flags: { node: string }): Promise<number> {
  const configPath = session.configPath();
  const project = configPath ? dirname(configPath) : session.io.cwd;
  const bin = binPath();
  const explicitConfig = session.configGiven ? configPath : null;
  const argv = [flags.node, bin, ...(explicitConfig ? ['--config', explicitConfig] : []), 'run'];
  const name = project.split('/').filter(Boolean).at(-1) ?? 'app';

  session.out(`# ── crontab (crontab -e) ─────────────────────────────────────────────
# Every minute; output goes to syslog (tag "tickwork"). Remove the pipe to get cron's e-mail instead.
* * * * * cd ${sh(project)} && ${argv.map(sh).join(' ')} --silent 2>&1 | logger -t tickwork

# ── systemd: /etc/systemd/system/tickwork-${name}.service ──────────────
[Unit]
Description=Tickwork tick for ${project}

[Service]
Type=oneshot
WorkingDirectory=${project}
ExecStart=${argv.map(systemdWord).join(' ')}
# On stop, SIGTERM interrupts running handlers; their runs are recorded as interrupted.
TimeoutStopSec=30

# ── systemd: /etc/systemd/system/tickwork-${name}.timer ────────────────
# Enable with: systemctl enable --now tickwork-${name}.timer
[Unit]
Description=Run tickwork every minute for ${project}

[Timer]
OnCalendar=*-*-* *:*:00
AccuracySec=1s
Persistent=false

[Install]
WantedBy=timers.target

# ── Kubernetes CronJob (adjust image and paths to your container) ────────
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tickwork-${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}
spec:
  schedule: "* * * * *"
  # The store keeps every slot once and prevents overlap per job, so ticks may overlap safely.
  concurrencyPolicy: Allow
  startingDeadlineSeconds: 50
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      # Retries are each job's retryAfterFailure policy, not a re-run of the whole tick.
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 30
          containers:
            - name: tickwork
              image: YOUR_APP_IMAGE
              workingDir: ${JSON.stringify(project)}
              command: ${JSON.stringify(argv)}
`);
  return 0;
}
