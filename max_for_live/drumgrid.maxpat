{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100,
			100,
			960,
			560
		],
		"openinpresentation": 1,
		"devicewidth": 400.0,
		"default_fontsize": 10.0,
		"default_fontname": "Arial",
		"description": "drumgrid: render the selected MIDI clip through a running drumgrid serve",
		"dependency_cache": [
			{
				"name": "drumgrid.js",
				"bootpath": ".",
				"patcherrelativepath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"latency": 0,
		"boxes": [
			{
				"box": {
					"id": "thisdevice",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						20.0,
						20.0,
						100.0,
						22.0
					],
					"outlettype": [
						"bang",
						"int",
						"int"
					],
					"text": "live.thisdevice",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "init",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						20.0,
						55.0,
						100.0,
						22.0
					],
					"outlettype": [
						"bang",
						"bang",
						"bang"
					],
					"text": "t b b b",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_setwave",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						200.0,
						95.0,
						150.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "set ---drumgrid_preview",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_init",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						120.0,
						95.0,
						40.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "init",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "ticks",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						95.0,
						80.0,
						22.0
					],
					"outlettype": [
						"bang"
					],
					"text": "qmetro 1000",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_tick",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						130.0,
						40.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "tick",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "d_in",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						420.0,
						60.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "deferlow",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "js",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 4,
					"patching_rect": [
						20.0,
						455.0,
						300.0,
						22.0
					],
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"text": "js drumgrid.js",
					"fontname": "Arial",
					"fontsize": 10.0,
					"saved_object_attributes": {
						"filename": "drumgrid.js",
						"parameter_enable": 0
					}
				}
			},
			{
				"box": {
					"id": "d_out",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						490.0,
						60.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "deferlow",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "udpsend",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						525.0,
						140.0,
						22.0
					],
					"text": "udpsend 127.0.0.1 9000",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "udpreceive",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						700.0,
						380.0,
						100.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "udpreceive 9010",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "b_render",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						20.0,
						200.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Render",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						4.0,
						60.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_render",
					"mode": 0,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Render",
							"parameter_shortname": "Render",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "m_render",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						230.0,
						50.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "render",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "b_cancel",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						110.0,
						200.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Cancel",
					"presentation": 1,
					"presentation_rect": [
						68.0,
						4.0,
						50.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_cancel",
					"mode": 0,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Cancel",
							"parameter_shortname": "Cancel",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "m_cancel",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						110.0,
						230.0,
						50.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "cancel",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "b_prompt",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						600.0,
						200.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Prompt",
					"presentation": 1,
					"presentation_rect": [
						306.0,
						142.0,
						90.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_prompt",
					"mode": 0,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Prompt",
							"parameter_shortname": "Prompt",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "m_prompt",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						600.0,
						230.0,
						50.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prompt",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "b_tracks",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						200.0,
						200.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Tracks",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						142.0,
						50.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_tracks",
					"mode": 0,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Tracks",
							"parameter_shortname": "Tracks",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "m_tracks",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						200.0,
						230.0,
						50.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "tracks",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "b_place",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						290.0,
						200.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Place",
					"presentation": 1,
					"presentation_rect": [
						252.0,
						142.0,
						50.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_place",
					"mode": 0,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Place",
							"parameter_shortname": "Place",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "m_place",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						290.0,
						230.0,
						50.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "place",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "seed",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						380.0,
						200.0,
						50.0,
						15.0
					],
					"outlettype": [
						"",
						"float"
					],
					"presentation": 1,
					"presentation_rect": [
						160.0,
						28.0,
						60.0,
						15.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "seed",
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 0,
							"parameter_mmin": 0.0,
							"parameter_mmax": 100000.0,
							"parameter_unitstyle": 0,
							"parameter_initial": [
								0.0
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_seed",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						380.0,
						230.0,
						80.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend seed",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "takes",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						470.0,
						200.0,
						50.0,
						15.0
					],
					"outlettype": [
						"",
						"float"
					],
					"presentation": 1,
					"presentation_rect": [
						226.0,
						28.0,
						40.0,
						15.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "takes",
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Takes",
							"parameter_shortname": "Takes",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 16,
							"parameter_unitstyle": 0,
							"parameter_initial": [
								1
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_takes",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						470.0,
						230.0,
						80.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend takes",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "decoding",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						560.0,
						200.0,
						150.0,
						20.0
					],
					"outlettype": [
						"",
						"",
						"float"
					],
					"presentation": 1,
					"presentation_rect": [
						272.0,
						26.0,
						124.0,
						18.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "decoding",
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Decoding",
							"parameter_shortname": "Decoding",
							"parameter_type": 2,
							"parameter_enum": [
								"auto",
								"parallel",
								"iterative"
							],
							"parameter_mmax": 2,
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_decoding",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						560.0,
						230.0,
						100.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend decoding",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "kit_menu",
					"maxclass": "umenu",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						380.0,
						300.0,
						150.0,
						22.0
					],
					"outlettype": [
						"int",
						"",
						""
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						26.0,
						150.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "kit_menu",
					"items": [],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "p_kit",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						380.0,
						330.0,
						80.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend kit",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "track_menu",
					"maxclass": "umenu",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						560.0,
						300.0,
						150.0,
						22.0
					],
					"outlettype": [
						"int",
						"",
						""
					],
					"presentation": 1,
					"presentation_rect": [
						58.0,
						142.0,
						190.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "track_menu",
					"items": [],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "p_track",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						560.0,
						330.0,
						80.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend track",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "pattr_kit",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						380.0,
						360.0,
						110.0,
						22.0
					],
					"outlettype": [
						"",
						"",
						""
					],
					"text": "pattr drumgrid_kit",
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "drumgrid_kit",
					"saved_object_attributes": {
						"parameter_enable": 1,
						"parameter_mappable": 0
					},
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Kit",
							"parameter_shortname": "Kit",
							"parameter_type": 3,
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_restorekit",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						380.0,
						390.0,
						110.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend restorekit",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "pattr_track",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						560.0,
						360.0,
						120.0,
						22.0
					],
					"outlettype": [
						"",
						"",
						""
					],
					"text": "pattr drumgrid_track",
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "drumgrid_track",
					"saved_object_attributes": {
						"parameter_enable": 1,
						"parameter_mappable": 0
					},
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Track",
							"parameter_shortname": "Track",
							"parameter_type": 3,
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_restoretrack",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						560.0,
						390.0,
						120.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend restoretrack",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "ui",
					"maxclass": "newobj",
					"numinlets": 6,
					"numoutlets": 6,
					"patching_rect": [
						20.0,
						560.0,
						300.0,
						22.0
					],
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						""
					],
					"text": "route status progress kits tracks save",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "p_status",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						595.0,
						70.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend set",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "status",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						630.0,
						300.0,
						20.0
					],
					"text": "idle",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						48.0,
						392.0,
						18.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "status"
				}
			},
			{
				"box": {
					"id": "progress",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						100.0,
						595.0,
						100.0,
						15.0
					],
					"outlettype": [
						""
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						68.0,
						392.0,
						6.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "progress",
					"orientation": 1,
					"floatoutput": 1,
					"size": 1.0,
					"ignoreclick": 1
				}
			},
			{
				"box": {
					"id": "save",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 3,
					"patching_rect": [
						380.0,
						595.0,
						100.0,
						22.0
					],
					"outlettype": [
						"",
						"",
						""
					],
					"text": "route kit track",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "p_savekit",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						380.0,
						630.0,
						70.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend set",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "p_savetrack",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						470.0,
						630.0,
						70.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "prepend set",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "buffer",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						20.0,
						680.0,
						170.0,
						22.0
					],
					"outlettype": [
						"float",
						"bang"
					],
					"text": "buffer~ ---drumgrid_preview",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_loaded",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						200.0,
						715.0,
						90.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "previewloaded",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "wave",
					"maxclass": "waveform~",
					"numinlets": 5,
					"numoutlets": 6,
					"patching_rect": [
						200.0,
						95.0,
						200.0,
						60.0
					],
					"outlettype": [
						"float",
						"float",
						"float",
						"float",
						"list",
						""
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						78.0,
						338.0,
						60.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "wave"
				}
			},
			{
				"box": {
					"id": "b_play",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						420.0,
						680.0,
						60.0,
						20.0
					],
					"outlettype": [
						"",
						""
					],
					"text": "Preview",
					"presentation": 1,
					"presentation_rect": [
						346.0,
						78.0,
						50.0,
						20.0
					],
					"fontname": "Arial",
					"fontsize": 10.0,
					"varname": "b_play",
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Preview",
							"parameter_shortname": "Preview",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_play",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 3,
					"patching_rect": [
						420.0,
						710.0,
						60.0,
						22.0
					],
					"outlettype": [
						"bang",
						"bang",
						""
					],
					"text": "sel 1 0",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_start",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						420.0,
						745.0,
						40.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "start",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_stop",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						470.0,
						745.0,
						40.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "stop",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "play",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						420.0,
						780.0,
						160.0,
						22.0
					],
					"outlettype": [
						"signal",
						"bang"
					],
					"text": "play~ ---drumgrid_preview",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "plugout",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [
						420.0,
						815.0,
						60.0,
						22.0
					],
					"outlettype": [
						"signal",
						"signal"
					],
					"text": "plugout~",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "m_off",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						520.0,
						815.0,
						40.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "set 0",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "midiin",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						700.0,
						20.0,
						50.0,
						22.0
					],
					"outlettype": [
						"int"
					],
					"text": "midiin",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "midiout",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						700.0,
						55.0,
						50.0,
						22.0
					],
					"text": "midiout",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "label_kit",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						380.0,
						280.0,
						30.0,
						20.0
					],
					"text": "Kit",
					"fontname": "Arial",
					"fontsize": 10.0
				}
			},
			{
				"box": {
					"id": "label_sd",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						380.0,
						180.0,
						200.0,
						20.0
					],
					"text": "Seed / Takes / Decoding",
					"presentation": 1,
					"presentation_rect": [
						124.0,
						4.0,
						272.0,
						18.0
					],
					"fontname": "Arial",
					"fontsize": 10.0
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [
						"thisdevice",
						0
					],
					"destination": [
						"init",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						2
					],
					"destination": [
						"m_setwave",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						1
					],
					"destination": [
						"m_init",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						0
					],
					"destination": [
						"ticks",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ticks",
						0
					],
					"destination": [
						"m_tick",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"d_in",
						0
					],
					"destination": [
						"js",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_init",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_tick",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						0
					],
					"destination": [
						"d_out",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"d_out",
						0
					],
					"destination": [
						"udpsend",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						3
					],
					"destination": [
						"udpreceive",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"udpreceive",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_render",
						0
					],
					"destination": [
						"m_render",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_render",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_cancel",
						0
					],
					"destination": [
						"m_cancel",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_cancel",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_prompt",
						0
					],
					"destination": [
						"m_prompt",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_prompt",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_tracks",
						0
					],
					"destination": [
						"m_tracks",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_tracks",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_place",
						0
					],
					"destination": [
						"m_place",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_place",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"seed",
						0
					],
					"destination": [
						"p_seed",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_seed",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"takes",
						0
					],
					"destination": [
						"p_takes",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_takes",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"decoding",
						0
					],
					"destination": [
						"p_decoding",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_decoding",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"kit_menu",
						0
					],
					"destination": [
						"p_kit",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_kit",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"track_menu",
						0
					],
					"destination": [
						"p_track",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_track",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"pattr_kit",
						0
					],
					"destination": [
						"p_restorekit",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_restorekit",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"pattr_track",
						0
					],
					"destination": [
						"p_restoretrack",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_restoretrack",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						1
					],
					"destination": [
						"ui",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ui",
						0
					],
					"destination": [
						"p_status",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_status",
						0
					],
					"destination": [
						"status",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ui",
						1
					],
					"destination": [
						"progress",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ui",
						2
					],
					"destination": [
						"kit_menu",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ui",
						3
					],
					"destination": [
						"track_menu",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"ui",
						4
					],
					"destination": [
						"save",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"save",
						0
					],
					"destination": [
						"p_savekit",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_savekit",
						0
					],
					"destination": [
						"pattr_kit",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"save",
						1
					],
					"destination": [
						"p_savetrack",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_savetrack",
						0
					],
					"destination": [
						"pattr_track",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						2
					],
					"destination": [
						"buffer",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"buffer",
						1
					],
					"destination": [
						"m_loaded",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_loaded",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_setwave",
						0
					],
					"destination": [
						"wave",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_play",
						0
					],
					"destination": [
						"sel_play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_play",
						0
					],
					"destination": [
						"m_start",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_play",
						1
					],
					"destination": [
						"m_stop",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_start",
						0
					],
					"destination": [
						"play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_stop",
						0
					],
					"destination": [
						"play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"play",
						0
					],
					"destination": [
						"plugout",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"play",
						0
					],
					"destination": [
						"plugout",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"play",
						1
					],
					"destination": [
						"m_off",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_off",
						0
					],
					"destination": [
						"b_play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"midiin",
						0
					],
					"destination": [
						"midiout",
						0
					]
				}
			}
		]
	}
}