import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { adminTokenOf, readCellFile } from "@corral/launcher";
import { contextNamed, readConfig } from "./contexts.js";

/** Where the CLI sends its requests, with which token, and why there (for messages). */
export interface Target {
  gateway: string;
  token: string | undefined;
  /** the CA certificate file an HTTPS gateway is checked against, when not the system's */
  ca?: string | undefined;
  from: string;
}

export interface TargetOptions {
  dir: string;
  /** --dir was given, not defaulted: no falling back to a context then */
  dirGiven: boolean;
  gateway?: string;
  context?: string;
  token?: string;
  tlsCa?: string;
}

const trimmed = (url: string) => url.replace(/\/$/, "");

/**
 * One order for every command, as kubectl's: `--context` picks a saved cell; else `--gateway`;
 * else the local cell in `--dir`; else the config's current context. The token is `--token`,
 * else `$CORRAL_TOKEN`, else the one saved with that cell (for a local cell, its admin token).
 */
export function resolveTarget(options: TargetOptions): Target {
  const target = resolveSaved(options);
  // --tls-ca wins over what was saved with the cell, as --token does.
  return options.tlsCa === undefined ? target : { ...target, ca: resolve(options.tlsCa) };
}

function resolveSaved(options: TargetOptions): Target {
  const explicit = options.token ?? (process.env["CORRAL_TOKEN"] || undefined);
  if (options.context !== undefined) {
    const context = contextNamed(readConfig(), options.context);
    return { gateway: trimmed(options.gateway ?? context.gateway), token: explicit ?? context.token, ca: context.ca, from: `context ${options.context}` };
  }
  const dir = resolve(options.dir);
  const local = readCellFile(dir);
  if (options.gateway !== undefined) {
    const gateway = trimmed(options.gateway);
    if (local !== undefined && trimmed(local.gateway) === gateway) return { gateway, token: explicit ?? adminTokenOf(local), ca: local.tls?.ca, from: "--gateway" };
    const saved = Object.values(readConfig().contexts).find((context) => trimmed(context.gateway) === gateway);
    return { gateway, token: explicit ?? saved?.token, ca: saved?.ca, from: "--gateway" };
  }
  if (local !== undefined) return { gateway: local.gateway, token: explicit ?? adminTokenOf(local), ca: local.tls?.ca, from: `the local cell in ${dir}` };
  const config = readConfig();
  if (!options.dirGiven && config.currentContext !== undefined) {
    const context = contextNamed(config, config.currentContext);
    return { gateway: trimmed(context.gateway), token: explicit ?? context.token, ca: context.ca, from: `context ${config.currentContext}` };
  }
  throw new Error(`no local cell in ${dir} and no current context: start one with 'corral cell up', point at a gateway with --gateway URL, or save one with 'corral config set-context NAME --gateway URL --token TOKEN'`);
}

/** A CA certificate for --tls-ca, read once here so a wrong path is named, not reported as a failed connection. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`--tls-ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`--tls-ca: ${path} holds no PEM certificate`);
  return text;
}
