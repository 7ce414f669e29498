import test from "ava";
import { parseRedisAddress } from "../index.js";

test("a redis:// URL is one server; a sentinel:// address lists the Sentinels and names the group", (t) => {
  t.deepEqual(parseRedisAddress("redis://127.0.0.1:6379"), { kind: "server", url: "redis://127.0.0.1:6379" });
  t.deepEqual(parseRedisAddress("sentinel://h1:26379,10.0.0.2:26380,[::1]:26381/corral?db=2"), {
    kind: "sentinel",
    sentinels: [
      { host: "h1", port: 26379 },
      { host: "10.0.0.2", port: 26380 },
      { host: "::1", port: 26381 },
    ],
    name: "corral",
    db: 2,
  });
  t.is((parseRedisAddress("sentinel://s%40cret@h1:26379/corral") as { password?: string }).password, "s@cret");
});

test("a bad address says what is wrong and shows the form expected", (t) => {
  t.throws(() => parseRedisAddress("sentinel://h1:26379,h2:26379"), { message: /names no master group.*sentinel:\/\/h1:26379,h2:26379,h3:26379\/corral/ });
  t.throws(() => parseRedisAddress("sentinel://h1:26379,h2/corral"), { message: /'h2' in .* is not host:port/ });
  t.throws(() => parseRedisAddress("sentinel://h1:99999/corral"), { message: /'h1:99999' .* is not host:port/ });
  t.throws(() => parseRedisAddress("http://h1:6379"), { message: /neither a redis:\/\/ URL nor a Sentinel address/ });
  t.throws(() => parseRedisAddress("redis://"), { message: /not a redis:\/\/ URL/ });
});
