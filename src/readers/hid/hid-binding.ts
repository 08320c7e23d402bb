/*
 * The hardware seam of HID readers (zwave-js style): the reader asks an injected binding for
 * devices and handles. The default binding wraps node-hid and is loaded on first use, so a
 * site without HID readers never loads the native module.
 */

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  product?: string | undefined;
  /** HID usage page / usage of the top-level collection; 0x01/0x06 is a keyboard. */
  usagePage?: number | undefined;
  usage?: number | undefined;
  interface?: number | undefined;
}

/** An open device: emits each input report as 'data', and 'error' when the device is lost. */
export interface HidDeviceHandle {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): void;
}

export interface HidBinding {
  /** May throw (no hidraw/libusb access); the reader treats that as "not connected yet". */
  devices(): HidDeviceInfo[];
  open(path: string): HidDeviceHandle;
}

export async function loadNodeHidBinding(): Promise<HidBinding> {
  const hid = await import('node-hid');
  return {
    devices: () =>
      hid.devices().map((d) => ({
        vendorId: d.vendorId,
        productId: d.productId,
        path: d.path,
        serialNumber: d.serialNumber,
        product: d.product,
        usagePage: d.usagePage,
        usage: d.usage,
        interface: d.interface,
      })),
    open: (path) => new hid.HID(path),
  };
}

const USAGE_PAGE_GENERIC_DESKTOP = 0x01;
const USAGE_KEYBOARD = 0x06;

export interface UsbSelector {
  vendorId?: number | undefined;
  productId?: number | undefined;
  serialNumber?: string | undefined;
  path?: string | undefined;
}

/**
 * The device path to open for a selector, or null when no such device is plugged in. A scanner
 * often exposes several interfaces (keyboard, vendor, consumer control): the keyboard collection
 * is preferred when the platform reports usages (hidraw and macOS do; libusb may not).
 */
export function selectHidDevice(devices: readonly HidDeviceInfo[], usb: UsbSelector): string | null {
  const matches = devices.filter(
    (d) =>
      d.path !== undefined &&
      (usb.path === undefined || d.path === usb.path) &&
      (usb.vendorId === undefined || d.vendorId === usb.vendorId) &&
      (usb.productId === undefined || d.productId === usb.productId) &&
      (usb.serialNumber === undefined || d.serialNumber === usb.serialNumber),
  );
  const keyboard = matches.find((d) => d.usagePage === USAGE_PAGE_GENERIC_DESKTOP && d.usage === USAGE_KEYBOARD);
  return (keyboard ?? matches[0])?.path ?? null;
}

export function describeSelector(usb: UsbSelector): string {
  if (usb.path !== undefined && usb.vendorId === undefined) return usb.path;
  const hex = (n: number | undefined) => (n === undefined ? '????' : n.toString(16).padStart(4, '0'));
  const serial = usb.serialNumber === undefined ? '' : ` serial ${usb.serialNumber}`;
  return `${hex(usb.vendorId)}:${hex(usb.productId)}${serial}`;
}
