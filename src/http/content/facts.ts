/**
 * @module The deployment facts every descriptive answer is built from: Matrix IDs, the public
 * homeserver URL, room aliases, and RM's proxy path to our info page.
 */
import type { Config } from "../../config/config.ts";
import { ApiError } from "../errors.ts";
import { callsignToUserId, reservedAccount } from "../../matrix/mxid.ts";
import { ROOM_KEYS, roomAlias, type RoomKey } from "../../matrix/deployment.ts";

export interface DeploymentFacts {
  readonly deployment: string;
  readonly serverName: string;
  readonly homeserverUrl: string;
  /** The product's name in RM (first label of `product.dns`), used in RM's proxy paths. */
  readonly productName: string;
  readonly aliases: Readonly<Record<RoomKey, string>>;
  readonly botUserId: string;
  readonly botUsername: string;
  readonly ingestBotUsername: string;
}

export function deploymentFacts(config: Config): DeploymentFacts {
  const dep = config.manifest.deployment;
  const alias = (key: RoomKey) => roomAlias(dep, key, config.serverName);
  return {
    deployment: dep,
    serverName: config.serverName,
    homeserverUrl: config.synapse.publicUrl,
    productName: config.manifest.product.dns.split(".")[0]!,
    aliases: Object.fromEntries(ROOM_KEYS.map((k) => [k, alias(k)])) as Record<RoomKey, string>,
    botUserId: `@${config.synapse.botUsername}:${config.serverName}`,
    botUsername: config.synapse.botUsername,
    ingestBotUsername: config.synapse.ingestBotUsername,
  };
}

/** The Matrix ID of a callsign from a request; 422 with the reason when there is none. */
export function userIdOf(callsign: string, facts: DeploymentFacts): string {
  const result = callsignToUserId(callsign, facts.serverName);
  if (!result.ok) throw new ApiError("invalid_request", result.reason);
  return result.userId;
}

/**
 * The Matrix ID of a person a lifecycle callback names: like `userIdOf`, and 409 when the callsign
 * maps to an account the service owns (acting on it would break the deployment).
 */
export function personIdOf(callsign: string, facts: DeploymentFacts): string {
  const userId = userIdOf(callsign, facts);
  const reserved = reservedAccount(userId, facts.botUsername, facts.ingestBotUsername);
  if (reserved !== null) {
    throw new ApiError(
      "conflict",
      `Refusing callsign ${JSON.stringify(callsign)}: ${reserved}, not a person's account`,
    );
  }
  return userId;
}

/** RM's product-proxy path to our `info.md`; the browser fetches it through RM as the person. */
export function infoMarkdownRef(facts: DeploymentFacts, lang: string): string {
  return `/api/v1/product/proxy/${facts.productName}${INFO_PAGE_PATH.replace(":lang", lang)}`;
}

/** Our info page's route (RM's proxy reaches it as RM, with the person's callsign). */
export const INFO_PAGE_PATH = "/api/v2/clients/:lang/info.md";

/** Our logo's route; public, and answered to GET and to the POST RM's proxy turns a GET into. */
export const LOGO_PATH = "/api/v2/clients/logo.svg";

/** RM's product-proxy path to our logo, which RM's UI loads as the product card's icon. */
export function logoRef(facts: DeploymentFacts): string {
  return `/api/v1/product/proxy/${facts.productName}${LOGO_PATH}`;
}
