/** The object store of a cell's image layers, each object named by its layer's digest. */
export function layerBucketName(cell: string): string {
  return `corral_${cell}_layers`;
}

/** The KV bucket of a cell's images, one record per name:tag. */
export function imageBucketName(cell: string): string {
  return `corral_${cell}_images`;
}

/** The object store where layers pushed through a gateway wait, part by part, until they are checked and stored; what is left there expires. */
export function uploadBucketName(cell: string): string {
  return `corral_${cell}_uploads`;
}
