import test from "ava";
import { parseCpu, parseDuration, parseSize, substitutePorts } from "../index.js";

const K = 1024;
const M = K * 1024;
const G = M * 1024;
const T = G * 1024;

test("parseSize: accepted forms", (t) => {
  const table: Array<[string | number, number]> = [
    [0, 0],
    [4096, 4096],
    ["0", 0],
    ["4096", 4096],
    ["512K", 512 * K],
    ["512k", 512 * K],
    ["100M", 100 * M],
    ["2G", 2 * G],
    ["1.5G", 1.5 * G],
    ["1T", T],
    ["1P", T * K],
    ["64Ki", 64 * K],
    ["64KiB", 64 * K],
    ["100Mi", 100 * M],
    ["100MiB", 100 * M],
    ["2Gi", 2 * G],
    ["2GiB", 2 * G],
    ["3Ti", 3 * T],
    ["3TiB", 3 * T],
    ["100MB", 100 * M],
    ["100B", 100],
    [" 100 MiB ", 100 * M],
    ["1.1K", 1126],
    ["+5M", 5 * M],
  ];
  for (const [input, bytes] of table) t.is(parseSize(input), bytes, String(input));
});

test("parseSize: rejected forms explain what is accepted", (t) => {
  const table: Array<[string | number, RegExp]> = [
    ["100X", /unknown size unit "X".*K, M, G, T or P/],
    ["100Mo", /unknown size unit "Mo"/],
    ["-1M", /must not be negative/],
    [-1, /must not be negative/],
    ["", /is not a size/],
    ["M", /is not a size/],
    ["1.5", /whole number/],
    [1.5, /whole number/],
    ["1e400", /too large/],
    ["99999999P", /too large/],
    [Number.NaN, /not a valid size/],
    [Number.POSITIVE_INFINITY, /not a valid size/],
    ["ten", /is not a size/],
  ];
  for (const [input, message] of table) {
    const error = t.throws(() => parseSize(input), undefined, String(input));
    t.regex(error?.message ?? "", message, String(input));
  }
});

test("parseCpu: cores and millicores", (t) => {
  const table: Array<[string | number, number]> = [
    [0.1, 0.1],
    [2, 2],
    ["2", 2],
    ["0.5", 0.5],
    ["250m", 0.25],
    ["1500m", 1.5],
    ["1e-3", 0.001],
    ["0", 0],
  ];
  for (const [input, cores] of table) t.is(parseCpu(input), cores, String(input));
});

test("parseCpu: rejected forms", (t) => {
  const table: Array<[string | number, RegExp]> = [
    ["2x", /unknown CPU unit "x".*millicores \(250m\)/],
    ["2 cores", /unknown CPU unit/],
    ["-1", /must not be negative/],
    [-0.5, /must not be negative/],
    ["", /not a CPU amount/],
    [Number.NaN, /not a valid cpu/],
    ["1e999", /not a valid CPU amount/],
  ];
  for (const [input, message] of table) {
    const error = t.throws(() => parseCpu(input), undefined, String(input));
    t.regex(error?.message ?? "", message, String(input));
  }
});

test("parseDuration: units, compounds, numbers as milliseconds", (t) => {
  const table: Array<[string | number, number]> = [
    [0, 0],
    [1500, 1500],
    [2.4, 2],
    ["0", 0],
    ["500ms", 500],
    ["5s", 5000],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1m30s500ms", 90_500],
    ["5S", 5000],
    [" 10s ", 10_000],
  ];
  for (const [input, ms] of table) t.is(parseDuration(input), ms, String(input));
});

test("parseDuration: rejected forms", (t) => {
  const table: Array<[string | number, RegExp]> = [
    ["30", /needs a unit/],
    ["5x", /unknown duration unit "x".*ms, s, m or h/],
    ["-5s", /must not be negative/],
    [-1, /must not be negative/],
    ["", /is not a duration/],
    ["s", /is not a duration/],
    ["5s!", /is not a duration/],
    ["1h 30m", /is not a duration/],
    [Number.NaN, /not a valid duration/],
  ];
  for (const [input, message] of table) {
    const error = t.throws(() => parseDuration(input), undefined, String(input));
    t.regex(error?.message ?? "", message, String(input));
  }
});

test("substitutePorts: %port% is the first port, %portN% the Nth from 0", (t) => {
  t.is(substitutePorts("--port=%port%", [31000]), "--port=31000");
  t.is(substitutePorts("%port0%-%port1%-%port%", [1, 2]), "1-2-1");
  t.is(substitutePorts("--a=%port2% --b=%port2%", [1, 2, 3]), "--a=3 --b=3");
  t.is(substitutePorts("no placeholders, 100% sure", []), "no placeholders, 100% sure");
  t.is(substitutePorts("%port", [1]), "%port");
  t.is(substitutePorts("%portx%", [1]), "%portx%");
});

test("substitutePorts: a missing port is an error saying how many there are", (t) => {
  t.throws(() => substitutePorts("--port=%port%", []), { message: /%port% refers to port 0 but only 0 ports were assigned/ });
  t.throws(() => substitutePorts("%port2%", [1, 2]), { message: /%port2% refers to port 2 but only 2 ports were assigned; raise requirements.ports to at least 3/ });
  t.throws(() => substitutePorts("%port1%", [1]), { message: /only 1 port was assigned/ });
});
