import { resolve } from "node:path";
import { readCellFile } from "@corral/launcher";

export interface Location {
  dir: string;
  gateway?: string;
}

/** The gateway URL from `--gateway`, or from the cell file under `--dir`. */
export function gatewayUrl(location: Location): string {
  if (location.gateway !== undefined) return location.gateway.replace(/\/$/, "");
  const dir = resolve(location.dir);
  const cell = readCellFile(dir);
  if (cell === undefined) {
    throw new Error(`no local cell in ${dir}: start one with 'corral cell up --dir ${location.dir}', or point at a gateway with --gateway URL`);
  }
  return cell.gateway;
}
