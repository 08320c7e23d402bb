import { locationOfResource, type SiteLocation } from '../../config/locations.js';
import { ApiError } from './errors.js';

/*
 * A disconnected location grants nothing new (README "Locations"): a PUT that would give access
 * there is refused with 409 and the stable code `location_disconnected`, before the write is even
 * sent to the writer, so the database is unchanged. A DELETE is never refused: it only takes
 * access away, which a disconnected location still wants.
 */

export type LocationsOf = () => readonly SiteLocation[];

const disconnected = (loc: SiteLocation, field: string) =>
  new ApiError(409, 'location_disconnected', `location "${loc.id}" is disconnected: nothing new is granted there`, field);

/** A pushed booking of `resourceId`: refused when the resource's location is disconnected. */
export function checkBookingLocation(locations: LocationsOf | undefined, resourceId: string): void {
  const loc = locations ? locationOfResource(locations(), resourceId) : undefined;
  if (loc?.connection === 'disconnected') throw disconnected(loc, 'body.resourceId');
}

/** A plan subscription naming `location`: refused when unknown (422) or disconnected (409). */
export function checkSubscriptionLocation(locations: LocationsOf | undefined, location: string | undefined): void {
  if (location === undefined) return;
  const loc = locations?.().find((l) => l.id === location);
  if (!loc) throw new ApiError(422, 'unknown_location', `no location "${location}" in the configuration`, 'body.location');
  if (loc.connection === 'disconnected') throw disconnected(loc, 'body.location');
}
