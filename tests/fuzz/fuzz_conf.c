/*
 * libFuzzer target for the configuration loader: any text must either load
 * or be refused with messages in the FILE:LINE: form, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

static void check_message(void *arg, const char *msg)
{
    (void)arg;
    /* every message names the file and a line: "fuzz.conf:N: ..." */
    if (strncmp(msg, "fuzz.conf:", 10) != 0 || msg[10] < '0' || msg[10] > '9')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct conf *c = conf_load_string(text, "fuzz.conf", check_message, NULL);
    if (c) {
        /* a loaded config is fully typed: every rule has a valid prefix */
        for (size_t i = 0; i < c->n_proxies; i++)
            for (size_t r = 0; r < c->proxies[i].n_rules; r++)
                if (c->proxies[i].rules[r].prefix.len > 128)
                    __builtin_trap();
        conf_free(c);
    }
    free(text);
    return 0;
}
