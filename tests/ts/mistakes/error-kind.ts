// expect-error TS2367: an error kind that does not exist
import type { ThreadtailError } from "threadtail";
export function f(e: ThreadtailError): boolean {
  return e.kind === "unauthorized";
}
