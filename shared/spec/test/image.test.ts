import test from "ava";
import { parseJobSpec, SpecError } from "../index.js";

const job = (image: string) => `job web = {
  image = ${image}
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%']
  requirements = { ram = 32M cpu = 0.1 ports = 1 }
  replicas = 1
}`;

test("image names the root filesystem; binary is then a path inside it", (t) => {
  const spec = parseJobSpec(job("'web:1.2'"), { file: "web.borg" });
  t.is(spec.image, "web:1.2");
  t.is(spec.binary, "/bin/busybox");
  t.is(parseJobSpec("job: web\nimage: registry.local/team/web\nbinary: /app\nrequirements: { ram: 1M, cpu: 0.1 }\nreplicas: 1\n", { file: "web.yaml" }).image, "registry.local/team/web");
});

test("a malformed image reference is refused at its line, saying what a reference looks like", (t) => {
  for (const bad of ["'Web:1'", "'web::1'", "'web:'", "'/web'", "'web:-x'"]) {
    const error = t.throws(() => parseJobSpec(job(bad), { file: "web.borg" }), { instanceOf: SpecError });
    t.is(error?.issues[0]?.field, "image", bad);
    t.is(error?.issues[0]?.line, 2, bad);
    t.regex(error?.message ?? "", /an image is name:tag/, bad);
  }
});

test("an alloc set takes no image", (t) => {
  const error = t.throws(() => parseJobSpec("alloc a = { image = 'web:1' requirements = { ram = 1G cpu = 1 } replicas = 1 }", { file: "a.borg" }), { instanceOf: SpecError });
  t.regex(error?.message ?? "", /image is not allowed in an alloc set/);
});
