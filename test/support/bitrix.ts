import { createClient, type PortalClient } from '../../lambda/calls/client.ts';
import { createSender } from '../../lambda/calls/sender.ts';
import { parseRunOptions, type RunOptions } from '../../lambda/config.ts';
import type { LeadFields, LeadSender, ValidRow, WritePlanner } from '../../lambda/types.ts';

export function row(line: number, id: number, fields: LeadFields, clears: string[] = []): ValidRow {
  return { line, id, fields, clears, warnings: [], raw: '' };
}

export const FAST = { rate: 20, burst: 10, operatingLimit: 100, operatingWindow: 10, concurrency: 4 };

export function setup(
  webhookUrl: string,
  limits: Partial<typeof FAST> = {},
  extra: { planner?: WritePlanner; dryRun?: boolean; timeoutMs?: number; fetch?: typeof fetch; backoffMs?: number } = {},
): { client: PortalClient; sender: LeadSender; logs: string[]; options: RunOptions } {
  const logs: string[] = [];
  const options = parseRunOptions({ dryRun: extra.dryRun ?? false, limits: { ...FAST, ...limits } });
  const client = createClient({
    webhookUrl,
    limits: options.limits,
    timeoutMs: extra.timeoutMs,
    fetch: extra.fetch,
    backoffMs: extra.backoffMs ?? 20,
    log: (l) => logs.push(l),
  });
  const sender = createSender({ api: client, planner: extra.planner, options });
  return { client, sender, logs, options };
}

export const FAR = () => Date.now() + 120_000;
