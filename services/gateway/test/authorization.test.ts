import test from "ava";
import type { CorralError, Identity } from "@corral/contracts";
import { authorizeAdmin, authorizeJob, authorizeRunAsRoot, ownerForSubmission, type JobVerb } from "../src/auth/authorization.js";

const admin: Identity = { name: "root", role: "admin" };
const alice: Identity = { name: "alice", role: "user" };
const vera: Identity = { name: "vera", role: "viewer" };
const VERBS: JobVerb[] = ["submit", "plan", "kill", "scale", "read logs of", "read events of", "ask why of"];
const READS: JobVerb[] = ["read logs of", "read events of", "ask why of"];

const refusal = (run: () => void): CorralError | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error as CorralError;
  }
};

test("every job verb: admins on anyone's job, users on their own (cell and federated ids alike), viewers read only", (t) => {
  for (const verb of VERBS) {
    for (const job of ["web.bob.local", "web.bob"]) {
      t.is(refusal(() => authorizeJob(admin, verb, job)), undefined);
      t.is(refusal(() => authorizeJob(alice, verb, job.replace("bob", "alice"))), undefined, `${verb} own ${job}`);
      const foreign = refusal(() => authorizeJob(alice, verb, job));
      t.is(foreign?.code, "forbidden", `${verb} ${job}`);
      t.is(foreign?.message, `alice may not ${verb} job ${job}: it is bob's; only its owner or an admin may`);
      const viewer = refusal(() => authorizeJob(vera, verb, job));
      if (READS.includes(verb)) t.is(viewer, undefined, `a viewer may ${verb}`);
      else t.regex(viewer?.message ?? "", new RegExp(`^vera is a viewer and may not ${verb} job ${job.replace(/\./g, "\\.")}`));
    }
  }
});

test("a submission is owned by its sender; naming another user is for admins only", (t) => {
  t.is(ownerForSubmission(alice, undefined), "alice");
  t.is(ownerForSubmission(alice, "alice"), "alice");
  const taken = refusal(() => ownerForSubmission(alice, "bob"));
  t.is(taken?.code, "forbidden");
  t.is(taken?.field, "user");
  t.regex(taken?.message ?? "", /user = 'bob', but you are alice/);
  t.is(ownerForSubmission(admin, "bob"), "bob");
});

test("users are managed by admins alone", (t) => {
  t.is(refusal(() => authorizeAdmin(admin, "add users")), undefined);
  for (const who of [alice, vera]) t.is(refusal(() => authorizeAdmin(who, "add users"))?.message, `${who.name} (${who.role}) may not add users: only admins may`);
});

test("run_as_root is for admins' jobs alone", (t) => {
  t.is(refusal(() => authorizeRunAsRoot(admin, true)), undefined);
  t.is(refusal(() => authorizeRunAsRoot(alice, undefined)), undefined);
  t.is(refusal(() => authorizeRunAsRoot(alice, false)), undefined);
  const refused = refusal(() => authorizeRunAsRoot(alice, true));
  t.is(refused?.code, "forbidden");
  t.is(refused?.field, "runAsRoot");
  t.regex(refused?.message ?? "", /alice may not submit run_as_root = true/);
});
