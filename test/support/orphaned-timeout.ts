// A process that leaves a NATS client timeout with nothing awaiting it, says it is still
// alive, then leaves a rejection of its own: exitOnUncaught must go on after the first and end it at the second.
import { deadline } from "@nats-io/transport-node";
import { createLogger, exitOnUncaught } from "@corral/kit";

exitOnUncaught(createLogger("test", "orphans"));
void deadline(new Promise(() => {}), 10);
setTimeout(() => {
  process.stdout.write("alive after the orphaned timeout\n");
  void Promise.reject(new Error("a rejection of our own"));
}, 300);
setTimeout(() => process.exit(0), 5000);
