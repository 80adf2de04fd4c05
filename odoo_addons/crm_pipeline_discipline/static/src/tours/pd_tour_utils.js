import { cookie } from "@web/core/browser/cookie";

/**
 * Shared steps of the Pipeline Discipline tours (started by tests/test_tours.py on the demo pipeline).
 *
 * The test chooses the records a tour works on and passes them in the cookie `pd_tour` (URL-encoded
 * JSON): `tourData()` reads it when the tour starts.
 *
 * `screenshot(name)` asks the test for a capture of the page (`console.log("pd-screenshot <name>")`);
 * the test saves it when PD_SCREENSHOTS names a directory, and answers by setting
 * `document.body.dataset.pdShot` to the name, which the next step waits for. Without PD_SCREENSHOTS the
 * same steps run and nothing is saved.
 */
export function tourData() {
    return JSON.parse(decodeURIComponent(cookie.get("pd_tour") || "%7B%7D"));
}

export function screenshot(name, trigger = "body") {
    return [
        {
            content: `Screenshot ${name}: the page is ready; close what a click left open`,
            trigger,
            run() {
                // no caret blinking in the search box
                if (document.activeElement?.matches(".o_searchview_input")) {
                    document.activeElement.blur();
                }
                // a date picker opened by an autofocused field, a hover tooltip: popovers close on a
                // pointer down outside them
                if (document.querySelector(".o_popover")) {
                    document.body.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
                }
            },
        },
        {
            content: `Screenshot ${name}: take it`,
            trigger: "body:not(:has(.o_popover))",
            run() {
                console.log(`pd-screenshot ${name}`);
            },
        },
        {
            content: `Screenshot ${name}: taken`,
            trigger: `body[data-pd-shot='${name}']`,
        },
    ];
}

export function menu(sectionXmlid, itemXmlid) {
    return [
        {
            content: `Open the menu ${sectionXmlid}`,
            trigger: `.o_menu_sections [data-menu-xmlid='${sectionXmlid}']`,
            run: "click",
        },
        {
            content: `Choose ${itemXmlid}`,
            trigger: `.o-dropdown--menu [data-menu-xmlid='${itemXmlid}']`,
            run: "click",
        },
    ];
}
