/**
 * What the web UI asks the gateway when it starts (`GET /ui/config.json`). The page is the
 * same static file behind every gateway; what differs between gateways comes as data, so
 * nothing is ever spliced into its HTML. ui/sigma.js reads this type too (checkJs).
 */
export interface UiConfig {
  /** the home cell */
  home: string;
  /** every cell behind the gateway: the home cell alone without a federation */
  cells: readonly string[];
  /** a federation's gateway: the page also lists the cells and federated jobs */
  federated: boolean;
}
