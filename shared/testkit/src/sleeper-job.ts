/** A job of `replicas` tasks that sleep for an hour: what tests run when the work itself does not matter. */
export function sleeperJob(name: string, replicas = 1): string {
  return `job ${name} = {
  binary = '/bin/sleep'
  args = ['3600']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = ${replicas}
}`;
}
