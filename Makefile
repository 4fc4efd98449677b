# Top-level build for the Kestrel MTA suite (GNU make, non-recursive).
#
#   make              build the shared library and every program into build/
#   make check        install missing dependencies, build, run unit and end-to-end tests
#   make run          install missing dependencies, build, run a sandbox instance in the foreground
#   make install      install (PREFIX, DESTDIR and the Postfix-style directory variables below)
#   make clean        remove build products
#   SANITIZE=1        build with AddressSanitizer and UndefinedBehaviorSanitizer (into build/san)
#
# Every top-level folder with a main.c is a program; util/*/ is the shared library.
# Unit tests are the *_test.c files beside the module they test (cmocka).

SHELL := /bin/bash
.DEFAULT_GOAL := all

# ---- installation layout (Postfix-compatible defaults) -------------------------------------
PREFIX               ?=
config_directory     ?= $(PREFIX)/etc/postfix
queue_directory      ?= $(PREFIX)/var/spool/postfix
command_directory    ?= $(PREFIX)/usr/sbin
daemon_directory     ?= $(PREFIX)/usr/libexec/postfix
data_directory       ?= $(PREFIX)/var/lib/postfix
mail_spool_directory ?= $(PREFIX)/var/mail
sendmail_path        ?= $(command_directory)/sendmail
newaliases_path      ?= $(PREFIX)/usr/bin/newaliases
mailq_path           ?= $(PREFIX)/usr/bin/mailq
DESTDIR              ?=

# Programs installed into command_directory; every other program is a daemon.
COMMANDS := postfix postconf postmap postalias sendmail postdrop postqueue postsuper postcat

# ---- compiler --------------------------------------------------------------------------------
CC      ?= cc
ifeq ($(SANITIZE),1)
B       ?= build/san
OPT     := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B       ?= build
OPT     := -O2
endif
CFLAGS  ?=
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -Iutil -MMD -MP
LDFLAGS += $(OPT)
LIBS    := -Wl,--as-needed -lssl -lcrypto -lsasl2 -ldb -lpcre2-8 -lresolv
TEST_LIBS := -lcmocka

PATH_DEFS := -DDEF_CONFIG_DIR='"$(config_directory)"' -DDEF_QUEUE_DIR='"$(queue_directory)"' \
	-DDEF_COMMAND_DIR='"$(command_directory)"' -DDEF_DAEMON_DIR='"$(daemon_directory)"' \
	-DDEF_DATA_DIR='"$(data_directory)"' -DDEF_MAIL_SPOOL_DIR='"$(mail_spool_directory)"' \
	-DDEF_SENDMAIL_PATH='"$(sendmail_path)"' -DDEF_NEWALIASES_PATH='"$(newaliases_path)"' \
	-DDEF_MAILQ_PATH='"$(mailq_path)"'

# ---- sources -------------------------------------------------------------------------------
# The library is four layers, each a static archive; a layer only uses the ones below it:
#   base (generic: strings, streams, events, logging) < table (lookup tables)
#   < mail (parameters, addresses, queue files) < service (daemon skeleton, IPC)
LAYERS    := base table mail service
LAYER_LIBS := $(foreach l,$(LAYERS),$(B)/lib/lib$(l).a)
# Link order: upper layers first.
LINK_LIBS := $(B)/lib/libservice.a $(B)/lib/libmail.a $(B)/lib/libtable.a $(B)/lib/libbase.a
PROGRAMS  := $(patsubst %/main.c,%,$(wildcard */main.c))
TEST_SRC  := $(wildcard util/*/*_test.c) $(foreach p,$(PROGRAMS),$(wildcard $(p)/*_test.c))
TEST_BIN  := $(TEST_SRC:%.c=$(B)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)

.PHONY: all check unit-test e2e-test run install clean deps format bench

# Programs that are another program under a second name (as Postfix ships them).
ALIASES := lmtp:smtp

all: $(LAYER_LIBS) $(PROGRAMS:%=$(B)/bin/%) $(foreach a,$(ALIASES),$(B)/bin/$(firstword $(subst :, ,$(a)))) $(HELPER_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The compiled-in directory defaults follow the install variables: paths.o is rebuilt
# whenever they change (the stamp file holds the last set used).
PATHS_STAMP := $(B)/obj/paths.defs
$(shell mkdir -p $(B)/obj)
ifneq ($(file < $(PATHS_STAMP)),$(PATH_DEFS))
$(file > $(PATHS_STAMP),$(PATH_DEFS))
endif
$(B)/obj/util/mail/paths.o: CFLAGS += $(PATH_DEFS)
$(B)/obj/util/mail/paths.o: $(PATHS_STAMP)

define LAYER_template
$(1)_LAYER_OBJ := $$(patsubst %.c,$(B)/obj/%.o,$$(filter-out %_test.c,$$(wildcard util/$(1)/*.c)))
$(B)/lib/lib$(1).a: $$($(1)_LAYER_OBJ)
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call LAYER_template,$(l))))

# The archives a unit test of layer L links: L and every layer below it.
below_base    := base
below_table   := table base
below_mail    := mail table base
below_service := service mail table base
layer_libs_upto = $(foreach l,$(below_$(1)),$(B)/lib/lib$(l).a)

define PROGRAM_template
$(1)_OBJ := $$(patsubst %.c,$(B)/obj/%.o,$$(filter-out %_test.c,$$(wildcard $(1)/*.c)))
$(B)/bin/$(1): $$($(1)_OBJ) $(LAYER_LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LINK_LIBS) $$(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_template,$(p))))

define ALIAS_template
$(B)/bin/$(1): $(B)/bin/$(2)
	ln -f $$< $$@
endef
$(foreach a,$(ALIASES),$(eval $(call ALIAS_template,$(firstword $(subst :, ,$(a))),$(lastword $(subst :, ,$(a))))))

# A unit test of util/L links its own file and the layers up to L; a program's unit test links
# its file, the program's objects except main.o, and the whole library.
define UTIL_TEST_template
$(B)/tests/$(1): $(B)/obj/$(1).o $$(call layer_libs_upto,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $(B)/obj/$(1).o $$(call layer_libs_upto,$(2)) $$(TEST_LIBS) $$(LIBS)
endef
define PROG_TEST_template
$(B)/tests/$(1): $(B)/obj/$(1).o $$(filter-out %/main.o,$$($(2)_OBJ)) $(LAYER_LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $(B)/obj/$(1).o $$(filter-out %/main.o,$$($(2)_OBJ)) $(LINK_LIBS) $$(TEST_LIBS) $$(LIBS)
endef
$(foreach t,$(filter util/%,$(TEST_SRC:%.c=%)),$(eval $(call UTIL_TEST_template,$(t),$(word 2,$(subst /, ,$(t))))))
$(foreach t,$(filter-out util/%,$(TEST_SRC:%.c=%)),$(eval $(call PROG_TEST_template,$(t),$(firstword $(subst /, ,$(t))))))

$(B)/tests/helpers/%: tests/helpers/%.c $(LAYER_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LINK_LIBS) $(LIBS) -lmilter -lpthread

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- tests -----------------------------------------------------------------------------------
deps:
	@scripts/install-deps.sh

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	@scripts/check-format.sh
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) unit-test
	$(MAKE) e2e-test

unit-test: $(TEST_BIN)
	@scripts/run-unit-tests.sh $(TEST_BIN)

# End-to-end tests drive the built binaries; KESTREL_BUILD tells them where they are.
e2e-test: all
	KESTREL_BUILD=$(CURDIR)/$(B) SANITIZE=$(SANITIZE) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests $(PYTEST_ARGS)

# ---- sandbox instance ----------------------------------------------------------------------
run: deps
	$(MAKE) -j$(JOBS) all
	@scripts/run-sandbox.sh $(CURDIR)/$(B) $(CURDIR)/run

# ---- benchmark against Debian's Postfix (never part of check; a smoke run is) --------------
bench: all
	KESTREL_BUILD=$(CURDIR)/$(B) bench/run $(BENCH_ARGS)

# ---- installation ----------------------------------------------------------------------------
install: all
	@scripts/install.sh "$(B)" "$(DESTDIR)" "$(config_directory)" "$(queue_directory)" \
		"$(command_directory)" "$(daemon_directory)" "$(data_directory)" \
		"$(sendmail_path)" "$(newaliases_path)" "$(mailq_path)" "$(COMMANDS)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
