/** The object store of a cell's image layers, each object named by its layer's digest. */
export function layerBucketName(cell: string): string {
  return `corral_${cell}_layers`;
}

/** The KV bucket of a cell's images, one record per name:tag. */
export function imageBucketName(cell: string): string {
  return `corral_${cell}_images`;
}
