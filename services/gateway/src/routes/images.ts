import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { commitLayerBodySchema, CorralError, DIGEST_PATTERN, recordImageBodySchema, UPLOAD_PART_BYTES } from "@corral/contracts";
import { commitUploadedLayer, createLayerBucket, createUploadBucket, formatImageRef, layerPresent, listImages, parseImageRef, putUploadPart, recordImage } from "@corral/images";
import { validate } from "../requests.js";
import { authorizeImage } from "../auth/authorization.js";
import type { RouteContext } from "./route-context.js";

const digestParam = z.string().regex(DIGEST_PATTERN, "a layer digest is sha256: and 64 lower-case hex digits");
const partParams = z.strictObject({
  upload: z.string().regex(/^[a-f0-9]{32}$/, "an upload id, as POST /v1/images/uploads gave it"),
  part: z.coerce.number().int().min(0).max(1_000_000),
});

/**
 * The cell's images, pushed through the gateway so that every push has a user: layers are
 * sent in parts and committed by digest (shared by every image that has them), then the
 * image is recorded under a name in the pusher's namespace (authorizeImage). Reading is open
 * to everyone signed in.
 */
export function registerImages(app: FastifyInstance, ctx: RouteContext): void {
  const replicas = ctx.jsReplicas;

  app.get("/v1/images", async () => ({ images: await listImages(ctx.nc, ctx.cell) }));

  app.get<{ Params: { digest: string } }>("/v1/images/layers/:digest", async (request) => {
    const digest = validate(digestParam, request.params.digest, "digest");
    return { digest, present: await layerPresent(await createLayerBucket(ctx.nc, ctx.cell, replicas), digest) };
  });

  app.post("/v1/images/uploads", async (request, reply) => {
    authorizeImage(request.identity, "upload image layers");
    return reply.code(201).send({ upload: randomBytes(16).toString("hex"), partBytes: UPLOAD_PART_BYTES });
  });

  // One part of a layer: its raw bytes, at most UPLOAD_PART_BYTES (the content type parser's limit).
  app.put<{ Params: { upload: string; part: string } }>("/v1/images/uploads/:upload/:part", async (request, reply) => {
    authorizeImage(request.identity, "upload image layers");
    const { upload, part } = validate(partParams, request.params, "path");
    if (!(request.body instanceof Buffer)) throw new CorralError("bad_request", "a layer part is sent as content-type application/octet-stream", "body");
    await putUploadPart(await createUploadBucket(ctx.nc, ctx.cell, replicas), request.identity.name, upload, part, request.body);
    return reply.code(204).send();
  });

  app.post("/v1/images/layers", async (request, reply) => {
    authorizeImage(request.identity, "upload image layers");
    const body = validate(commitLayerBodySchema, request.body, "body");
    request.auditTarget = body.digest;
    const committed = await commitUploadedLayer(ctx.nc, ctx.cell, request.identity.name, body, replicas);
    return reply.code(committed.present ? 200 : 201).send({ digest: body.digest, ...committed });
  });

  app.post("/v1/images", async (request, reply) => {
    const body = validate(recordImageBodySchema, request.body, "body");
    const ref = parseImageRef(body.ref);
    request.auditTarget = formatImageRef(ref);
    authorizeImage(request.identity, "push images", ref);
    const image = { name: ref.name, tag: ref.tag, layers: body.layers, config: body.config, pushedAt: new Date().toISOString(), pushedBy: request.identity.name };
    await recordImage(ctx.nc, ctx.cell, image, replicas);
    return reply.code(201).send({ image });
  });
}
